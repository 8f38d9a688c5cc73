"""The web console: sign-up with administrator approval, log-in, credentials download."""
