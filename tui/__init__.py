"""euca-tui: a live terminal dashboard for Eucalyptus and AWS, over the euca2ools client library."""
