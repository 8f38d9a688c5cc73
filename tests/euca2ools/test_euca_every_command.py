"""Every declared command runs as a real subprocess and sends its declared action.

A stub server answers every action with a minimal success document and records the
request, so this covers commands neither moto nor the cloud implement yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from vpc_cases import VPC_CASES

from euca2ools.commands import all_commands, bundle

OIDC = "arn:aws:iam::111122223333:oidc-provider/id.example.com"

# command -> (arguments, expected parameter subset of the first request)
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    "euca-run-instances": (["emi-1", "-n", "2-3", "-g", "web", "-g", "sg-1", "-k", "k",
                            "-d", "hello", "-t", "m1.small", "-z", "zone-1",
                            "-b", "/dev/sdb=ephemeral0", "-b", "/dev/sdc=snap-1:5:true", "-m"],
                           {"ImageId": "emi-1", "MinCount": "2", "MaxCount": "3",
                            "SecurityGroup.1": "web", "SecurityGroupId.1": "sg-1", "KeyName": "k",
                            "UserData": "aGVsbG8=", "InstanceType": "m1.small",
                            "Placement.AvailabilityZone": "zone-1",
                            "BlockDeviceMapping.1.VirtualName": "ephemeral0",
                            "BlockDeviceMapping.2.Ebs.SnapshotId": "snap-1",
                            "BlockDeviceMapping.2.Ebs.VolumeSize": "5",
                            "BlockDeviceMapping.2.Ebs.DeleteOnTermination": "true",
                            "Monitoring.Enabled": "true"}),
    "euca-describe-instances": (["i-1", "verbose", "--filter", "tag:Name=a", "--filter",
                                 "tag:Name=b"],
                                {"InstanceId.1": "i-1", "InstanceId.2": "verbose",
                                 "Filter.1.Name": "tag:Name", "Filter.1.Value.1": "a",
                                 "Filter.1.Value.2": "b"}),
    "euca-terminate-instances": (["i-1", "i-2"], {"InstanceId.2": "i-2"}),
    "euca-stop-instances": (["i-1", "-f"], {"InstanceId.1": "i-1", "Force": "true"}),
    "euca-start-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-reboot-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-get-console-output": (["i-1"], {"InstanceId": "i-1"}),
    "euca-describe-instance-attribute": (["i-1", "-t"], {"InstanceId": "i-1",
                                                         "Attribute": "instanceType"}),
    "euca-modify-instance-attribute": (["i-1", "-t", "m1.large"],
                                       {"InstanceType.Value": "m1.large"}),
    "euca-reset-instance-attribute": (["i-1", "--kernel"], {"Attribute": "kernel"}),
    "euca-describe-instance-status": (["--include-all-instances"],
                                      {"IncludeAllInstances": "true"}),
    "euca-monitor-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-unmonitor-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-describe-images": ([], {"Owner.1": "self"}),
    "euca-register": (["bucket/img.manifest.xml", "-n", "img", "-a", "x86_64"],
                      {"ImageLocation": "bucket/img.manifest.xml", "Name": "img",
                       "Architecture": "x86_64"}),
    "euca-deregister": (["emi-1"], {"ImageId": "emi-1"}),
    "euca-create-image": (["i-1", "-n", "snapimg", "--no-reboot"],
                          {"InstanceId": "i-1", "Name": "snapimg", "NoReboot": "true"}),
    "euca-describe-image-attribute": (["emi-1", "-l"], {"Attribute": "launchPermission"}),
    "euca-modify-image-attribute": (["emi-1", "-l", "-a", "all", "-r", "111122223333"],
                                    {"LaunchPermission.Add.1.Group": "all",
                                     "LaunchPermission.Remove.1.UserId": "111122223333"}),
    "euca-reset-image-attribute": (["emi-1", "-l"], {"Attribute": "launchPermission"}),
    "euca-copy-image": (["-r", "us-west-1", "-s", "ami-1", "-n", "copy", "-c", "tok"],
                        {"SourceRegion": "us-west-1", "SourceImageId": "ami-1", "Name": "copy",
                         "ClientToken": "tok"}),
    "euca-confirm-product-instance": (["774F4FF8", "-i", "i-1"],
                                      {"ProductCode": "774F4FF8", "InstanceId": "i-1"}),
    "euca-import-volume": (["disk.vhd", "-f", "vhd", "-z", "zone-1", "--image-size", "2g",
                            "--manifest-url", "http://s3/b/m.xml", "--no-upload"],
                           {"Image.Format": "VHD", "Image.Bytes": str(2 * 1024 ** 3),
                            "Volume.Size": "2", "AvailabilityZone": "zone-1",
                            "Image.ImportManifestUrl": "http://s3/b/m.xml"}),
    "euca-import-instance": (["disk.vhd", "-t", "m1.small", "-f", "vhd", "-a", "i386", "-p",
                              "Windows", "--image-size", "1024", "--manifest-url", "http://s3/m",
                              "--no-upload", "-s", "3"],
                             {"DiskImage.1.Image.Format": "VHD", "DiskImage.1.Image.Bytes": "1024",
                              "DiskImage.1.Volume.Size": "3", "Platform": "Windows",
                              "LaunchSpecification.InstanceType": "m1.small"}),
    "euca-describe-conversion-tasks": (["import-1"], {"ConversionTaskId.1": "import-1"}),
    "euca-cancel-conversion-task": (["import-1"], {"ConversionTaskId": "import-1"}),
    # CloudFormation (lists as .member.N)
    "euform-create-stack": (["st", "--template-url", "http://h/t.json", "-d", "-n", "arn:a,arn:b",
                             "--capabilities", "CAPABILITY_IAM", "-p", "A=1", "-p", "B=",
                             "-t", "5", "--tag", "k=v"],
                            {"StackName": "st", "TemplateURL": "http://h/t.json",
                             "DisableRollback": "true", "NotificationARNs.member.2": "arn:b",
                             "Capabilities.member.1": "CAPABILITY_IAM",
                             "Parameters.member.1.ParameterKey": "A",
                             "Parameters.member.1.ParameterValue": "1",
                             "Parameters.member.2.ParameterValue": "", "TimeoutInMinutes": "5",
                             "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}),
    "euform-update-stack": (["st", "--use-previous-template", "-p", "A", "--delete-tags"],
                            {"UsePreviousTemplate": "true",
                             "Parameters.member.1.UsePreviousValue": "true", "Tags": ""}),
    "euform-delete-stack": (["st"], {"StackName": "st"}),
    "euform-cancel-update-stack": (["st"], {"StackName": "st"}),
    "euform-continue-rollback": (["st", "--skip", "R1", "--skip", "R2", "--role", "arn:r"],
                                 {"ResourcesToSkip.member.2": "R2", "RoleARN": "arn:r"}),
    "euform-describe-stacks": (["st", "--show-long"], {"StackName": "st"}),
    "euform-list-stacks": (["--status", "CREATE_COMPLETE,DELETE_COMPLETE"],
                           {"StackStatusFilter.member.2": "DELETE_COMPLETE"}),
    "euform-describe-stack-events": (["st"], {"StackName": "st"}),
    "euform-describe-stack-resource": (["st", "-l", "R"], {"LogicalResourceId": "R"}),
    "euform-describe-stack-resources": (["-p", "sg-1"], {"PhysicalResourceId": "sg-1"}),
    "euform-list-stack-resources": (["st"], {"StackName": "st"}),
    "euform-get-template": (["st"], {"StackName": "st"}),
    "euform-get-template-summary": (["st"], {"StackName": "st"}),
    "euform-validate-template": (["--template-file", "-"], {"TemplateBody": "ssh-rsa AAAA"}),
    "euca-create-keypair": (["k"], {"KeyName": "k"}),
    "euca-get-password-data": (["i-1"], {"InstanceId": "i-1"}),
    # {key}: a real private key file (the command reads it before it sends the request).
    "euca-get-password": (["i-1", "-k", "{key}"], {"InstanceId": "i-1"}),
    "euca-bundle-instance": (["i-1", "-b", "bkt", "-p", "win"],
                             {"InstanceId": "i-1", "Storage.S3.Bucket": "bkt",
                              "Storage.S3.Prefix": "win", "Storage.S3.AWSAccessKeyId": "AKIDSTUB"}),
    "euca-describe-bundle-tasks": (["bun-1", "--filter", "state=complete"],
                                   {"BundleId.1": "bun-1", "Filter.1.Name": "state"}),
    "euca-cancel-bundle-task": (["bun-1"], {"BundleId": "bun-1"}),
    "euca-import-keypair": (["k", "-f", "-"], {"KeyName": "k",
                                               "PublicKeyMaterial": "c3NoLXJzYSBBQUFB"}),
    "euca-delete-keypair": (["k"], {"KeyName": "k"}),
    "euca-describe-keypairs": (["--filter", "key-name=k"], {"Filter.1.Name": "key-name"}),
    "euca-create-group": (["g", "-d", "desc"], {"GroupName": "g", "GroupDescription": "desc"}),
    "euca-delete-group": (["sg-1"], {"GroupId": "sg-1"}),
    "euca-describe-groups": (["g", "sg-2"], {"GroupName.1": "g", "GroupId.1": "sg-2"}),
    "euca-describe-group": (["g"], {"GroupName.1": "g"}),
    "euca-authorize": (["g", "-P", "udp", "-p", "-1", "-o", "other", "-u", "111122223333"],
                       {"Action": "AuthorizeSecurityGroupIngress",
                        "IpPermissions.1.IpProtocol": "udp", "IpPermissions.1.FromPort": "1",
                        "IpPermissions.1.ToPort": "65535",
                        "IpPermissions.1.Groups.1.GroupName": "other",
                        "IpPermissions.1.Groups.1.UserId": "111122223333"}),
    "euca-revoke": (["sg-1", "--egress", "-P", "all"],
                    {"Action": "RevokeSecurityGroupEgress", "GroupId": "sg-1",
                     "IpPermissions.1.IpProtocol": "-1",
                     "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"}),
    "euca-allocate-address": ([], {}),
    "euca-associate-address": (["198.51.100.1", "-i", "i-1"],
                               {"PublicIp": "198.51.100.1", "InstanceId": "i-1"}),
    "euca-disassociate-address": (["198.51.100.1"], {"PublicIp": "198.51.100.1"}),
    "euca-release-address": (["-a", "eipalloc-1"], {"AllocationId": "eipalloc-1"}),
    "euca-describe-addresses": (["eipalloc-1", "198.51.100.1"],
                                {"AllocationId.1": "eipalloc-1", "PublicIp.1": "198.51.100.1"}),
    "euca-describe-availability-zones": (["verbose"], {"ZoneName.1": "verbose"}),
    "euca-describe-regions": ([], {}),
    "euca-describe-account-attributes": (["supported-platforms"],
                                         {"AttributeName.1": "supported-platforms"}),
    "euca-describe-instance-types": (["--by-zone"], {"Availability": "true"}),
    "euca-modify-instance-type": (["m1.small", "-c", "2", "-m", "512"],
                                  {"Name": "m1.small", "Cpu": "2", "Memory": "512"}),
    "euca-create-tags": (["i-1", "--tag", "a=b", "--tag", "c"],
                         {"ResourceId.1": "i-1", "Tag.1.Key": "a", "Tag.1.Value": "b",
                          "Tag.2.Value": ""}),
    "euca-delete-tags": (["i-1", "--tag", "a"], {"Tag.1.Key": "a"}),
    "euca-describe-tags": (["--filter", "resource-type=instance"],
                           {"Filter.1.Value.1": "instance"}),
    "euserv-describe-node-controllers": (["zone-1"], {"ZoneName.1": "zone-1"}),
    "euserv-describe-signups": (["--status", "all"], {"Status": "all"}),
    "euserv-approve-signup": (["su-0123456789abcdef"], {"SignupId": "su-0123456789abcdef"}),
    "euserv-reject-signup": (["su-0123456789abcdef"], {"SignupId": "su-0123456789abcdef"}),
    "euserv-migrate-instances": (["-s", "node-1", "--exclude-dest", "node-2"],
                                 {"SourceHost": "node-1", "DestinationHost.1": "node-2",
                                  "AllowHosts": "false"}),
    "euserv-describe-services": (["-a", "--by-zone", "--filter", "service-type=node", "n1"],
                                 {"ListAll": "true", "Filter.1.Name": "service-type",
                                  "Filter.1.Value.1": "node", "ServiceName.1": "n1"}),
    "euserv-describe-service-types": (["-a"], {}),
    "euserv-register-service": (["-t", "node", "-h", "10.0.0.9", "-z", "zone-1", "nc9"],
                                {"Type": "node", "Host": "10.0.0.9", "Partition": "zone-1",
                                 "Name": "nc9"}),
    "euserv-deregister-service": (["nc9"], {"Name": "nc9"}),
    "euserv-modify-service": (["-s", "stop", "node-1"], {"Name": "node-1", "State": "stop"}),
    "euserv-describe-events": (["-f", "oneline"], {}),
    "euctl": ([], {"Action": "DescribeProperties"}),
    "euca-create-volume": (["-z", "zone-1", "-s", "5"], {"AvailabilityZone": "zone-1", "Size": "5"}),
    "euca-delete-volume": (["vol-1"], {"VolumeId": "vol-1"}),
    "euca-describe-volumes": (["vol-1"], {"VolumeId.1": "vol-1"}),
    "euca-attach-volume": (["vol-1", "-i", "i-1", "-d", "/dev/sdf"],
                           {"VolumeId": "vol-1", "InstanceId": "i-1", "Device": "/dev/sdf"}),
    "euca-detach-volume": (["vol-1"], {"VolumeId": "vol-1"}),
    "euca-create-snapshot": (["vol-1", "-d", "nightly"], {"VolumeId": "vol-1",
                                                          "Description": "nightly"}),
    "euca-delete-snapshot": (["snap-1"], {"SnapshotId": "snap-1"}),
    "euca-describe-snapshots": (["-a"], {}),
    "euca-describe-snapshot-attribute": (["snap-1", "-c"], {"Attribute": "createVolumePermission"}),
    "euca-modify-snapshot-attribute": (["snap-1", "-c", "-a", "all"],
                                       {"CreateVolumePermission.Add.1.Group": "all"}),
    "euca-reset-snapshot-attribute": (["snap-1", "-c"], {"Attribute": "createVolumePermission"}),
    "euare-accountcreate": (["acme"], {"AccountName": "acme"}),
    "euare-accountlist": ([], {}),
    "euare-accountdel": (["acme", "-r"], {"AccountName": "acme", "Recursive": "true"}),
    "euare-usercreate": (["bob", "-p", "/dev/", "--as-account", "acme"],
                         {"UserName": "bob", "Path": "/dev/", "DelegateAccount": "acme"}),
    "euare-userdel": (["bob"], {"UserName": "bob"}),
    "euare-userlistbypath": (["-p", "/dev/"], {"PathPrefix": "/dev/"}),
    "euare-useraddkey": (["bob"], {"UserName": "bob"}),
    "euare-userdelkey": (["AKID", "-u", "bob"], {"AccessKeyId": "AKID", "UserName": "bob"}),
    "euare-userlistkeys": (["bob"], {"UserName": "bob"}),
    "euare-groupcreate": (["devs", "-p", "/x/"], {"GroupName": "devs", "Path": "/x/"}),
    "euare-groupadduser": (["devs", "-u", "bob"], {"GroupName": "devs", "UserName": "bob"}),
    "euare-grouplistbypath": ([], {}),
    # accounts
    "euare-accountaliascreate": (["acme-corp"], {"AccountAlias": "acme-corp"}),
    "euare-accountaliasdelete": (["acme-corp"], {"AccountAlias": "acme-corp"}),
    "euare-accountaliaslist": (["--as-account", "acme"], {"DelegateAccount": "acme"}),
    "euare-accountgetsummary": ([], {}),
    "euare-getldapsyncstatus": ([], {}),
    "euare-accountuploadpolicy": (["acme", "-p", "quota", "-o", "{}"],
                                  {"AccountName": "acme", "PolicyName": "quota",
                                   "PolicyDocument": "{}"}),
    "euare-accountgetpolicy": (["acme", "-p", "quota"],
                               {"AccountName": "acme", "PolicyName": "quota"}),
    "euare-accountlistpolicies": (["acme"], {"AccountName": "acme"}),
    "euare-accountdelpolicy": (["acme", "-p", "quota"],
                               {"AccountName": "acme", "PolicyName": "quota"}),
    # users
    "euare-usergetattributes": (["bob", "--show-extra"], {"UserName": "bob"}),
    "euare-usermod": (["bob", "-n", "robert", "-p", "/x/"],
                      {"UserName": "bob", "NewUserName": "robert", "NewPath": "/x/"}),
    "euare-userlistgroups": (["bob"], {"UserName": "bob"}),
    "euare-usergetinfo": (["bob", "-k", "email"], {"UserName": "bob", "InfoKey": "email"}),
    "euare-userupdateinfo": (["bob", "-k", "email", "-i", "b@x"],
                             {"InfoKey": "email", "InfoValue": "b@x"}),
    "euare-usermodkey": (["AKID", "-s", "Inactive", "-u", "bob"],
                         {"AccessKeyId": "AKID", "Status": "Inactive", "UserName": "bob"}),
    "euare-useraddloginprofile": (["bob", "-p", "s3cret-pass"],
                                  {"UserName": "bob", "Password": "s3cret-pass"}),
    "euare-usergetloginprofile": (["bob"], {"UserName": "bob"}),
    "euare-usermodloginprofile": (["bob", "-p", "n3w-pass-word"], {"Password": "n3w-pass-word"}),
    "euare-userdelloginprofile": (["bob"], {"UserName": "bob"}),
    "euare-useraddcert": (["bob", "-c", "PEM"], {"UserName": "bob", "CertificateBody": "PEM"}),
    "euare-usercreatecert": (["bob"], {"UserName": "bob"}),
    "euare-userlistcerts": (["bob", "-v"], {"UserName": "bob"}),
    "euare-usermodcert": (["CID", "-u", "bob", "-s", "Inactive"],
                          {"CertificateId": "CID", "Status": "Inactive"}),
    "euare-userdelcert": (["CID", "-u", "bob"], {"CertificateId": "CID", "UserName": "bob"}),
    "euare-userlistmfadevices": (["bob"], {"UserName": "bob"}),
    "euare-userenablemfadevice": (["bob", "-s", "SN1", "-c1", "123456", "-c2", "654321"],
                                  {"SerialNumber": "SN1", "AuthenticationCode1": "123456",
                                   "AuthenticationCode2": "654321"}),
    "euare-userdeactivatemfadevice": (["bob", "-s", "SN1"], {"SerialNumber": "SN1"}),
    "euare-userresyncmfadevice": (["bob", "-s", "SN1", "-c1", "123456", "-c2", "654321"],
                                  {"SerialNumber": "SN1", "AuthenticationCode2": "654321"}),
    "euare-useraddpolicy": (["bob", "-p", "p1", "-e", "Allow", "-a", "ec2:*", "-r", "*"],
                            {"Action": "PutUserPolicy", "UserName": "bob",
                             "PolicyName": "p1"}),
    "euare-useruploadpolicy": (["bob", "-p", "p1", "-o", "{}"],
                               {"UserName": "bob", "PolicyDocument": "{}"}),
    "euare-usergetpolicy": (["bob", "-p", "p1"], {"UserName": "bob", "PolicyName": "p1"}),
    "euare-userlistpolicies": (["bob"], {"UserName": "bob"}),
    "euare-userdelpolicy": (["bob", "-p", "p1"], {"UserName": "bob", "PolicyName": "p1"}),
    # groups
    "euare-grouplistusers": (["devs"], {"GroupName": "devs"}),
    "euare-groupmod": (["devs", "-n", "ops"], {"GroupName": "devs", "NewGroupName": "ops"}),
    "euare-groupremoveuser": (["devs", "-u", "bob"], {"GroupName": "devs", "UserName": "bob"}),
    "euare-groupdel": (["devs"], {"GroupName": "devs"}),
    "euare-groupaddpolicy": (["devs", "-p", "p1", "-e", "Deny", "-a", "s3:*", "-r", "*"],
                             {"Action": "PutGroupPolicy", "GroupName": "devs"}),
    "euare-groupuploadpolicy": (["devs", "-p", "p1", "-o", "{}"], {"PolicyDocument": "{}"}),
    "euare-groupgetpolicy": (["devs", "-p", "p1"], {"GroupName": "devs", "PolicyName": "p1"}),
    "euare-grouplistpolicies": (["devs"], {"GroupName": "devs"}),
    "euare-groupdelpolicy": (["devs", "-p", "p1"], {"GroupName": "devs", "PolicyName": "p1"}),
    # roles and instance profiles
    "euare-rolecreate": (["app", "-s", "ec2.amazonaws.com", "-p", "/svc/"],
                         {"RoleName": "app", "Path": "/svc/"}),
    "euare-rolegetattributes": (["app"], {"RoleName": "app"}),
    "euare-rolelistbypath": (["-p", "/svc/"], {"PathPrefix": "/svc/"}),
    "euare-roleupdateassumepolicy": (["app", "-s", "ec2.amazonaws.com"], {"RoleName": "app"}),
    "euare-roledel": (["app"], {"RoleName": "app"}),
    "euare-roleaddpolicy": (["app", "-p", "p1", "-e", "Allow", "-a", "s3:*", "-c", "*"],
                            {"Action": "PutRolePolicy", "RoleName": "app"}),
    "euare-roleuploadpolicy": (["app", "-p", "p1", "-o", "{}"], {"PolicyDocument": "{}"}),
    "euare-rolegetpolicy": (["app", "-p", "p1"], {"RoleName": "app", "PolicyName": "p1"}),
    "euare-rolelistpolicies": (["app"], {"RoleName": "app"}),
    "euare-roledelpolicy": (["app", "-p", "p1"], {"RoleName": "app", "PolicyName": "p1"}),
    "euare-instanceprofilecreate": (["web", "-p", "/w/"],
                                    {"InstanceProfileName": "web", "Path": "/w/"}),
    "euare-instanceprofileaddrole": (["web", "-r", "app"],
                                     {"InstanceProfileName": "web", "RoleName": "app"}),
    "euare-instanceprofileremoverole": (["web", "-r", "app"],
                                        {"InstanceProfileName": "web", "RoleName": "app"}),
    "euare-instanceprofilegetattributes": (["web", "-r"], {"InstanceProfileName": "web"}),
    "euare-instanceprofilelistbypath": ([], {}),
    "euare-instanceprofilelistforrole": (["app"], {"RoleName": "app"}),
    "euare-instanceprofiledel": (["web"], {"InstanceProfileName": "web"}),
    # server certificates and OpenID Connect providers
    "euare-servercertupload": (["cert1", "-c", "PEM", "--private-key", "KEY"],
                               {"ServerCertificateName": "cert1", "CertificateBody": "PEM",
                                "PrivateKey": "KEY"}),
    "euare-servercertgetattributes": (["cert1"], {"ServerCertificateName": "cert1"}),
    "euare-servercertlistbypath": (["-p", "/"], {"PathPrefix": "/"}),
    "euare-servercertmod": (["cert1", "-n", "cert2"],
                            {"ServerCertificateName": "cert1",
                             "NewServerCertificateName": "cert2"}),
    "euare-servercertdel": (["cert1"], {"ServerCertificateName": "cert1"}),
    "euare-oidcprovidercreate": (["https://id.example.com", "-c", "app1", "-t", "a" * 40],
                                 {"Url": "https://id.example.com",
                                  "ClientIDList.member.1": "app1",
                                  "ThumbprintList.member.1": "a" * 40}),
    "euare-oidcprovidergetattributes": ([OIDC], {"OpenIDConnectProviderArn": OIDC}),
    "euare-oidcproviderlist": ([], {}),
    "euare-oidcproviderdel": ([OIDC], {"OpenIDConnectProviderArn": OIDC}),
    "euare-oidcprovideraddclientid": ([OIDC, "-c", "app2"], {"ClientID": "app2"}),
    "euare-oidcproviderdelclientid": ([OIDC, "-c", "app2"], {"ClientID": "app2"}),
    "euare-oidcproviderchangethumbprint": ([OIDC, "-t", "b" * 40],
                                           {"ThumbprintList.member.1": "b" * 40}),
    # STS
    "euare-assumerole": (["arn:aws:iam::111122223333:role/app", "--session-name", "s1",
                          "--external-id", "ext-1"],
                         {"RoleArn": "arn:aws:iam::111122223333:role/app",
                          "RoleSessionName": "s1", "ExternalId": "ext-1",
                          "DurationSeconds": "900"}),
    "euare-getcallerid": ([], {}),
    "euscale-create-auto-scaling-group": (
        ["g", "-l", "lc", "-M", "4", "-m", "1", "-z", "zone-a,zone-b", "--desired-capacity", "2",
         "--termination-policies", "OldestInstance,Default", "--health-check-type", "ELB",
         "--grace-period", "60", "--tag", "k=team, v=blue, p=true"],
        {"AutoScalingGroupName": "g", "LaunchConfigurationName": "lc", "MaxSize": "4",
         "MinSize": "1", "AvailabilityZones.member.2": "zone-b", "DesiredCapacity": "2",
         "TerminationPolicies.member.1": "OldestInstance", "HealthCheckType": "ELB",
         "HealthCheckGracePeriod": "60", "Tags.member.1.Key": "team",
         "Tags.member.1.Value": "blue", "Tags.member.1.PropagateAtLaunch": "true"}),
    "euscale-create-launch-config": (
        ["lc", "-i", "emi-1", "-t", "m1.small", "-k", "k", "-g", "web,sg-1", "-d", "hi",
         "--monitoring-disabled"],
        {"LaunchConfigurationName": "lc", "ImageId": "emi-1", "InstanceType": "m1.small",
         "KeyName": "k", "SecurityGroups.member.2": "sg-1", "UserData": "aGk=",
         "InstanceMonitoring.Enabled": "false"}),
    "euscale-create-or-update-tags": (
        ["--tag", "id=g, t=auto-scaling-group, k=env, v=prod, p=false"],
        {"Tags.member.1.ResourceId": "g", "Tags.member.1.ResourceType": "auto-scaling-group",
         "Tags.member.1.Key": "env", "Tags.member.1.Value": "prod",
         "Tags.member.1.PropagateAtLaunch": "false"}),
    "euscale-delete-auto-scaling-group": (["g", "-d"], {"AutoScalingGroupName": "g",
                                                        "ForceDelete": "true"}),
    "euscale-delete-launch-config": (["lc"], {"LaunchConfigurationName": "lc"}),
    "euscale-delete-notification-configuration": (["g", "-t", "arn:t"], {"TopicARN": "arn:t"}),
    "euscale-delete-policy": (["up", "-g", "g"], {"PolicyName": "up",
                                                  "AutoScalingGroupName": "g"}),
    "euscale-delete-scheduled-action": (["a", "-g", "g"], {"ScheduledActionName": "a"}),
    "euscale-delete-tags": (["--tag", "id=g, k=env"], {"Tags.member.1.Key": "env"}),
    "euscale-describe-account-limits": ([], {}),
    "euscale-describe-adjustment-types": ([], {}),
    "euscale-describe-auto-scaling-groups": (["g1", "g2"],
                                             {"AutoScalingGroupNames.member.2": "g2"}),
    "euscale-describe-auto-scaling-instances": (["i-1"], {"InstanceIds.member.1": "i-1"}),
    "euscale-describe-auto-scaling-notification-types": ([], {}),
    "euscale-describe-launch-configs": (["lc"], {"LaunchConfigurationNames.member.1": "lc"}),
    "euscale-describe-metric-collection-types": ([], {}),
    "euscale-describe-notification-configurations": (["g"],
                                                     {"AutoScalingGroupNames.member.1": "g"}),
    "euscale-describe-policies": (["up", "-g", "g"], {"PolicyNames.member.1": "up",
                                                      "AutoScalingGroupName": "g"}),
    "euscale-describe-process-types": ([], {}),
    "euscale-describe-scaling-activities": (["-g", "g"], {"AutoScalingGroupName": "g"}),
    "euscale-describe-scheduled-actions": (["-g", "g"], {"AutoScalingGroupName": "g"}),
    "euscale-describe-tags": (["--filter", "key=env"], {"Filters.member.1.Name": "key",
                                                        "Filters.member.1.Values.member.1": "env"}),
    "euscale-describe-termination-policy-types": ([], {}),
    "euscale-disable-metrics-collection": (["g"], {"AutoScalingGroupName": "g"}),
    "euscale-enable-metrics-collection": (["g", "-g", "1Minute", "-m", "GroupMinSize"],
                                          {"Granularity": "1Minute",
                                           "Metrics.member.1": "GroupMinSize"}),
    "euscale-execute-policy": (["up", "-g", "g", "-h"], {"PolicyName": "up",
                                                         "HonorCooldown": "true"}),
    "euscale-put-notification-configuration": (
        ["g", "-n", "autoscaling:EC2_INSTANCE_LAUNCH", "-t", "arn:t"],
        {"NotificationTypes.member.1": "autoscaling:EC2_INSTANCE_LAUNCH", "TopicARN": "arn:t"}),
    "euscale-put-scaling-policy": (["up", "-g", "g", "-a", "2", "-t", "ChangeInCapacity",
                                    "--cooldown", "60"],
                                   {"PolicyName": "up", "ScalingAdjustment": "2",
                                    "AdjustmentType": "ChangeInCapacity", "Cooldown": "60"}),
    "euscale-put-scheduled-update-group-action": (
        ["a", "-g", "g", "-r", "0 9 * * *", "--desired-capacity", "3"],
        {"ScheduledActionName": "a", "Recurrence": "0 9 * * *", "DesiredCapacity": "3"}),
    "euscale-resume-processes": (["g", "--processes", "Launch,Terminate"],
                                 {"ScalingProcesses.member.2": "Terminate"}),
    "euscale-set-desired-capacity": (["g", "-c", "3", "-H"], {"DesiredCapacity": "3",
                                                              "HonorCooldown": "false"}),
    "euscale-set-instance-health": (["i-1", "-s", "Unhealthy"],
                                    {"InstanceId": "i-1", "HealthStatus": "Unhealthy",
                                     "ShouldRespectGracePeriod": "false"}),
    "euscale-suspend-processes": (["g"], {"AutoScalingGroupName": "g"}),
    "euscale-terminate-instance-in-auto-scaling-group": (
        ["i-1", "-D"], {"InstanceId": "i-1", "ShouldDecrementDesiredCapacity": "false"}),
    "euscale-update-auto-scaling-group": (["g", "-m", "0", "-M", "5"],
                                          {"MinSize": "0", "MaxSize": "5"}),
    "euwatch-put-data": (["-n", "App", "-m", "Hits", "-v", "3", "-d", "Host=a,Zone=b",
                          "-u", "Count"],
                         {"Namespace": "App", "MetricData.member.1.MetricName": "Hits",
                          "MetricData.member.1.Value": "3.0",
                          "MetricData.member.1.Dimensions.member.2.Value": "b",
                          "MetricData.member.1.Unit": "Count"}),
    "euwatch-get-stats": (["Hits", "-n", "App", "-s", "Sum,Average", "--period", "300"],
                          {"MetricName": "Hits", "Statistics.member.2": "Average",
                           "Period": "300"}),
    "euwatch-list-metrics": (["-n", "App", "-d", "Host=a"],
                             {"Namespace": "App", "Dimensions.member.1.Name": "Host"}),
    "euwatch-put-metric-alarm": (["hot", "--comparison-operator", "GreaterThanThreshold",
                                  "--evaluation-periods", "2", "--metric-name", "CPU",
                                  "--namespace", "AWS/EC2", "--period", "60", "--statistic",
                                  "Average", "--threshold", "70", "--alarm-actions", "arn:a,arn:b"],
                                 {"AlarmName": "hot", "Threshold": "70.0",
                                  "AlarmActions.member.2": "arn:b"}),
    "euwatch-describe-alarms": (["hot", "--state-value", "ALARM"],
                                {"AlarmNames.member.1": "hot", "StateValue": "ALARM"}),
    "euwatch-describe-alarms-for-metric": (["--metric-name", "CPU", "--namespace", "AWS/EC2"],
                                           {"MetricName": "CPU", "Namespace": "AWS/EC2"}),
    "euwatch-describe-alarm-history": (["hot", "--history-item-type", "Action"],
                                       {"AlarmName": "hot", "HistoryItemType": "Action"}),
    "euwatch-set-alarm-state": (["hot", "--state-value", "OK", "--state-reason", "test"],
                                {"AlarmName": "hot", "StateValue": "OK", "StateReason": "test"}),
    "euwatch-enable-alarm-actions": (["a", "b"], {"AlarmNames.member.2": "b"}),
    "euwatch-disable-alarm-actions": (["a"], {"AlarmNames.member.1": "a"}),
    "euwatch-delete-alarms": (["a"], {"AlarmNames.member.1": "a"}),
    "eulb-apply-security-groups-to-lb": (["web", "-g", "sg-1,sg-2"],
                                         {"LoadBalancerName": "web",
                                          "SecurityGroups.member.2": "sg-2"}),
    "eulb-attach-lb-to-subnets": (["web", "-s", "subnet-1"], {"Subnets.member.1": "subnet-1"}),
    "eulb-configure-healthcheck": (["web", "-t", "HTTP:80/ping", "--interval", "10",
                                    "--timeout", "5", "--healthy-threshold", "2",
                                    "--unhealthy-threshold", "3"],
                                   {"HealthCheck.Target": "HTTP:80/ping",
                                    "HealthCheck.Interval": "10",
                                    "HealthCheck.UnhealthyThreshold": "3"}),
    "eulb-create-app-cookie-stickiness-policy": (["web", "-c", "SID", "-p", "app"],
                                                 {"CookieName": "SID", "PolicyName": "app"}),
    "eulb-create-lb": (["web", "-z", "zone-1", "-l", "protocol=http, lb-port=80, instance-port=8080",
                        "-l", "protocol=HTTPS,lb-port=443,instance-port=80,instance-protocol=HTTP,"
                        "cert-id=arn:aws:iam::1:server-certificate/c", "-t", "env=test"],
                       {"LoadBalancerName": "web", "AvailabilityZones.member.1": "zone-1",
                        "Listeners.member.1.Protocol": "HTTP",
                        "Listeners.member.1.LoadBalancerPort": "80",
                        "Listeners.member.1.InstancePort": "8080",
                        "Listeners.member.2.InstanceProtocol": "HTTP",
                        "Listeners.member.2.SSLCertificateId": "arn:aws:iam::1:server-certificate/c",
                        "Tags.member.1.Key": "env", "Tags.member.1.Value": "test"}),
    "eulb-create-lb-cookie-stickiness-policy": (["web", "-e", "60", "-p", "lbc"],
                                                {"CookieExpirationPeriod": "60",
                                                 "PolicyName": "lbc"}),
    "eulb-create-lb-listeners": (["web", "-l", "protocol=TCP,lb-port=25,instance-port=2525"],
                                 {"Listeners.member.1.Protocol": "TCP",
                                  "Listeners.member.1.InstancePort": "2525"}),
    "eulb-create-lb-policy": (["web", "-n", "pp", "-t", "ProxyProtocolPolicyType", "-a",
                               "name=ProxyProtocol, value=true", "-A", "a=1,b=2"],
                              {"PolicyName": "pp", "PolicyTypeName": "ProxyProtocolPolicyType",
                               "PolicyAttributes.member.1.AttributeName": "ProxyProtocol",
                               "PolicyAttributes.member.1.AttributeValue": "true",
                               "PolicyAttributes.member.3.AttributeName": "b"}),
    "eulb-create-tags": (["web", "-t", "a=1", "-t", "b"],
                         {"LoadBalancerNames.member.1": "web", "Tags.member.1.Value": "1",
                          "Tags.member.2.Key": "b"}),
    "eulb-delete-lb": (["web"], {"LoadBalancerName": "web"}),
    "eulb-delete-lb-listeners": (["web", "-l", "80,443"], {"LoadBalancerPorts.member.2": "443"}),
    "eulb-delete-lb-policy": (["web", "-p", "pp"], {"PolicyName": "pp"}),
    "eulb-delete-tags": (["web", "-t", "a"], {"LoadBalancerNames.member.1": "web",
                                              "Tags.member.1.Key": "a"}),
    "eulb-deregister-instances-from-lb": (["web", "--instances", "i-1,i-2"],
                                          {"Instances.member.2.InstanceId": "i-2"}),
    "eulb-describe-instance-health": (["web", "--instances", "i-1"],
                                      {"Instances.member.1.InstanceId": "i-1"}),
    "eulb-describe-lb-attributes": (["web"], {"LoadBalancerName": "web"}),
    "eulb-describe-lb-policies": (["web", "-p", "a,b"], {"PolicyNames.member.2": "b"}),
    "eulb-describe-lb-policy-types": (["ProxyProtocolPolicyType"],
                                      {"PolicyTypeNames.member.1": "ProxyProtocolPolicyType"}),
    "eulb-describe-lbs": (["web", "db"], {"LoadBalancerNames.member.2": "db"}),
    "eulb-describe-tags": (["web"], {"LoadBalancerNames.member.1": "web"}),
    "eulb-detach-lb-from-subnets": (["web", "-s", "subnet-1"], {"Subnets.member.1": "subnet-1"}),
    "eulb-disable-zones-for-lb": (["web", "-z", "zone-1"],
                                  {"AvailabilityZones.member.1": "zone-1"}),
    "eulb-enable-zones-for-lb": (["web", "-z", "zone-1,zone-2"],
                                 {"AvailabilityZones.member.2": "zone-2"}),
    "eulb-modify-lb-attributes": (["web", "ConnectionSettings.IdleTimeout=30"],
                                  {"LoadBalancerAttributes.ConnectionSettings.IdleTimeout": "30"}),
    "eulb-register-instances-with-lb": (["web", "--instances", "i-1"],
                                        {"Instances.member.1.InstanceId": "i-1"}),
    "eulb-set-lb-listener-ssl-cert": (["web", "-l", "443", "-c", "arn:c"],
                                      {"LoadBalancerPort": "443", "SSLCertificateId": "arn:c"}),
    "eulb-set-lb-policies-for-backend-server": (["web", "-i", "80", "-p", "pp"],
                                                {"InstancePort": "80",
                                                 "PolicyNames.member.1": "pp"}),
    "eulb-set-lb-policies-of-listener": (["web", "-l", "80", "-p", ""],
                                         {"LoadBalancerPort": "80", "PolicyNames": ""}),
}
CASES.update(VPC_CASES)
LOCAL = {"euca-version", "euca-generate-environment-config", "euca-fingerprint-key",
         "euare-releaserole"}
# Bundle commands move files through S3 (not query actions): test_euca_bundle*.py runs them.
BUNDLE = {c.name for c in bundle.COMMANDS}
# Local files and S3 transfers: test_euca_imports.py, test_euimage_commands.py and
# test_euca_bundle_vol.py run them.
FILE_COMMANDS = {"euca-resume-import", "euca-delete-disk-image", "euimage-pack-image",
                 "euimage-describe-pack", "euimage-install-pack", "euca-bundle-vol"}


def test_every_command_has_a_case() -> None:
    """The table below covers every declared command."""
    names = {c.name for c in all_commands()}
    skipped = LOCAL | BUNDLE | FILE_COMMANDS
    assert names - skipped == set(CASES), sorted(names ^ (set(CASES) | skipped))


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_sends_its_action(euca, stub, name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Run the command against the stub; check action, parameters and SigV4 service."""
    cloud, ini = stub
    command = next(c for c in all_commands() if c.name == name)
    args, expected = CASES[name]
    if "{key}" in args:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (tmp_path / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
        args = [a.format(key=tmp_path / "key.pem") for a in args]
    euca(name, *args, ini=ini, input="ssh-rsa AAAA")
    assert cloud.requests, "no request sent"
    first = cloud.requests[0]
    params = first["params"]
    if "Action" not in expected:
        assert params["Action"] == command.action
    for key, value in expected.items():
        assert params.get(key) == value, (key, params)
    scope = first["headers"]["authorization"].split("Credential=")[1].split(",")[0]
    assert scope.split("/")[3] == command.service  # SigV4 service name
    assert scope.split("/")[2] == "stub"  # region name from the section name


def test_local_commands(euca, tmp_path: Path, stub) -> None:  # type: ignore[no-untyped-def]
    """euca-version, euca-fingerprint-key and euca-generate-environment-config."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    proc = euca("euca-version")
    assert proc.stderr.startswith("euca2ools 3.4")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    out = euca("euca-fingerprint-key", str(tmp_path / "k.pem")).stdout.strip()
    assert len(out.split(":")) == 20
    _cloud, ini = stub
    out = euca("euca-generate-environment-config", ini=ini).stdout
    assert f"EC2_URL={_cloud.url}; export EC2_URL;" in out
    assert "AWS_ACCESS_KEY_ID=AKIDSTUB; export AWS_ACCESS_KEY_ID;" in out
    assert "# EUCALYPTUS_CERT is not set" in out
    out = euca("euca-generate-environment-config", "--simple", ini=ini).stdout
    assert "AWS_SECRET_ACCESS_KEY=stubsecret" in out.splitlines()


def test_help_for_every_command(euca) -> None:  # type: ignore[no-untyped-def]
    """--help works for every command and names it."""
    for command in all_commands():
        out = euca(command.name, "--help").stdout
        assert command.name in out


EXTRA_CASES = [
    ("euca-run-instances", ["emi-1", "-a", ":0:subnet-1::10.0.0.5:sg-1,sg-2:true:2"],
     {"NetworkInterface.1.DeviceIndex": "0", "NetworkInterface.1.SubnetId": "subnet-1",
      "NetworkInterface.1.PrivateIpAddress": "10.0.0.5",
      "NetworkInterface.1.SecurityGroupId.2": "sg-2",
      "NetworkInterface.1.DeleteOnTermination": "true",
      "NetworkInterface.1.SecondaryPrivateIpAddressCount": "2"}),
    ("euca-run-instances", ["emi-1", "-s", "subnet-1", "--associate-public-ip-address", "yes",
                            "-g", "sg-1", "-p", "arn:aws:iam::1:instance-profile/x"],
     {"NetworkInterface.1.SubnetId": "subnet-1",
      "NetworkInterface.1.AssociatePublicIpAddress": "true",
      "NetworkInterface.1.SecurityGroupId.1": "sg-1",
      "IamInstanceProfile.Arn": "arn:aws:iam::1:instance-profile/x"}),
    ("euca-run-instances", ["emi-1", "-f", "-"], {"UserData": "c3NoLXJzYSBBQUFB"}),
    ("euca-delete-tags", ["i-1", "--tag", "a=", "--tag", "b=c"],
     {"Tag.1.Key": "a", "Tag.1.Value": "", "Tag.2.Value": "c"}),
    ("euca-register", ["-n", "ebsimg", "-s", "snap-1"],
     {"RootDeviceName": "/dev/sda1", "BlockDeviceMapping.1.DeviceName": "/dev/sda1",
      "BlockDeviceMapping.1.Ebs.SnapshotId": "snap-1"}),
    ("euca-authorize", ["g", "-P", "icmp", "-t", "8:0", "-s", "10.0.0.0/8"],
     {"IpPermissions.1.FromPort": "8", "IpPermissions.1.ToPort": "0",
      "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8"}),
    ("euca-authorize", ["g", "-p", "ssh"], {"IpPermissions.1.FromPort": "22"}),
]


@pytest.mark.parametrize("name,args,expected", EXTRA_CASES)
def test_friendly_options(euca, stub, name: str, args: list[str], expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Compound option syntaxes turn into the right wire parameters."""
    cloud, ini = stub
    euca(name, *args, ini=ini, input="ssh-rsa AAAA")
    params = cloud.requests[0]["params"]
    for key, value in expected.items():
        assert params.get(key) == value, (key, params)
    if "-d" not in args and "UserData" not in expected:
        assert "UserData" not in params
    if name == "euca-delete-tags":
        assert "Tag.1.Value" in params
