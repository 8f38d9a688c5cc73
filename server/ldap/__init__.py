"""LDAP / Active Directory integration (Eucalyptus' LIC): sync and directory log-in."""
