"""euca2ools: a Python 3 reimplementation of the Eucalyptus/AWS command-line suite.

Kept tiny on purpose: every ``euca-*`` script imports this package first, and
start-up time is a feature (see ``benchmarks/cli_startup.py``).
"""

__version__ = "3.4"
VERSION_STRING = "euca2ools 3.4 (Newton)"
