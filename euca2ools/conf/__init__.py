"""Configuration files shipped with euca2ools (the AWS regions, ``aws.ini``)."""
