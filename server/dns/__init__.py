"""The cloud's DNS service: a dnsmasq answering for the cloud's domain (balancers'
and instances' names)."""
