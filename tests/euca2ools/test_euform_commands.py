"""euform-* CloudFormation commands as subprocesses against moto_server (the AWS stand-in)
and against our cloud, which serves no CloudFormation and must say so in one line."""

from __future__ import annotations

import configparser
import json
import uuid
from pathlib import Path

TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "a bucket and a security group",
    "Parameters": {"GroupDesc": {"Type": "String", "Default": "web servers",
                                 "AllowedValues": ["web servers", "db servers"]}},
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Group": {"Type": "AWS::EC2::SecurityGroup",
                  "Properties": {"GroupDescription": {"Ref": "GroupDesc"}}},
    },
    "Outputs": {"GroupId": {"Value": {"Ref": "Group"}}},
}


def _lines(out: str, tag: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines() if line.split("\t")[0] == tag]


def test_stack_life_on_moto(euca, moto_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Validate, create with parameters/tags, describe, events, resources, template, delete."""
    template = tmp_path / "stack.json"
    template.write_text(json.dumps(TEMPLATE))
    name = f"form-{uuid.uuid4().hex[:8]}"

    out = euca("euform-validate-template", "--template-file", str(template), ini=moto_ini).stdout
    assert out.splitlines()[0] == "DESCRIPTION\ta bucket and a security group"

    summary = euca("euform-get-template-summary", "--template-file", str(template),
                   ini=moto_ini).stdout
    assert sorted(r[1] for r in _lines(summary, "RESOURCETYPES")) == \
        ["AWS::EC2::SecurityGroup", "AWS::S3::Bucket"]
    assert _lines(summary, "PARAMETER") == [["PARAMETER", "GroupDesc", "false", "web servers",
                                             ""]]
    assert [r[2] for r in _lines(summary, "ALLOWED-VALUE")] == ["web servers", "db servers"]

    stack_id = euca("euform-create-stack", name, "--template-file", str(template),
                    "-p", "GroupDesc=db servers", "--tag", "env=test", "--tag", "bare",
                    "--capabilities", "CAPABILITY_IAM", ini=moto_ini).stdout.strip()
    assert stack_id.startswith("arn:aws:cloudformation:") and f":stack/{name}/" in stack_id

    out = euca("euform-describe-stacks", name, ini=moto_ini).stdout
    stack = _lines(out, "STACK")
    assert [s[:5] for s in stack] == [["STACK", name, "CREATE_COMPLETE", "",
                                       "a bucket and a security group"]]
    [output] = _lines(out, "OUTPUT")
    assert output[1] == "GroupId" and output[2].startswith("sg-")
    long = euca("euform-describe-stacks", name, "--show-long", ini=moto_ini).stdout.splitlines()
    assert long[1] == stack_id
    assert ["PARAMETER", "GroupDesc", "", "db servers"] in [x.split("\t") for x in long]

    assert name in [s[1] for s in _lines(euca("euform-list-stacks", ini=moto_ini).stdout,
                                         "STACK")]

    events = _lines(euca("euform-describe-stack-events", name, ini=moto_ini).stdout, "EVENT")
    assert {e[7] for e in events} >= {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    assert all(e[1] == name and len(e) == 9 for e in events)

    listed = _lines(euca("euform-list-stack-resources", name, ini=moto_ini).stdout, "RESOURCE")
    assert sorted((r[1], r[3], r[5]) for r in listed) == [
        ("Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE"),
        ("Group", "AWS::EC2::SecurityGroup", "CREATE_COMPLETE")]
    group_id = next(r[2] for r in listed if r[1] == "Group")
    assert group_id == output[2]
    described = _lines(euca("euform-describe-stack-resources", "-n", name, "-l", "Group",
                            ini=moto_ini).stdout, "RESOURCE")
    assert [r[1:3] for r in described] == [["Group", group_id]]
    one = _lines(euca("euform-describe-stack-resource", name, "-l", "Bucket",
                      ini=moto_ini).stdout, "RESOURCE")
    assert [r[1] for r in one] == ["Bucket"]
    # The stack's resources exist in the other services.
    groups = euca("euca-describe-groups", ini=moto_ini).stdout
    assert group_id in groups

    body = euca("euform-get-template", name, ini=moto_ini).stdout
    assert json.loads(body) == TEMPLATE
    summary = euca("euform-get-template-summary", name, ini=moto_ini).stdout
    assert "DESCRIPTION\ta bucket and a security group" in summary.splitlines()

    # Same template and parameters: AWS answers ValidationError, one line, exit 1.
    proc = euca("euform-update-stack", name, "--use-previous-template", "-p", "GroupDesc",
                ini=moto_ini, check=False)
    assert (proc.returncode, proc.stderr) == (
        1, "euform-update-stack: error (ValidationError): No updates are to be performed.\n")
    changed = dict(TEMPLATE, Description="changed")
    template.write_text(json.dumps(changed))
    out = euca("euform-update-stack", name, "--template-file", str(template), "-p",
               "GroupDesc=web servers", "--delete-tags", ini=moto_ini).stdout.strip()
    assert out == stack_id
    assert json.loads(euca("euform-get-template", name, ini=moto_ini).stdout) == changed

    assert euca("euform-delete-stack", name, ini=moto_ini).stdout == ""
    proc = euca("euform-describe-stacks", name, ini=moto_ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"euform-describe-stacks: error (ValidationError): Stack with id "
                           f"{name} does not exist\n")


def test_usage_errors(euca, moto_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bad arguments are one line and exit 2, before any request."""
    cases = [
        (["euform-create-stack", "s"], "one of the arguments --template-file/--template-url "
                                       "is required"),
        (["euform-create-stack", "s", "--template-file", str(tmp_path / "missing.json")],
         f"No such file or directory: {tmp_path / 'missing.json'}"),
        (["euform-create-stack", "s", "--template-url", "http://x/t", "-p", "novalue"],
         "argument -p/--parameter: parameter 'novalue' must have form KEY=VALUE"),
        (["euform-update-stack", "s", "--tag", "a=b", "--delete-tags"],
         "argument --delete-tags: not allowed with argument --tag"),
        (["euform-continue-rollback", "s", "--role", "admin"],
         'argument --role: ARN must begin with "arn:"'),
        (["euform-describe-stack-resources"],
         "one of the arguments -n/--name -p/--physical-resource-id is required"),
        (["euform-get-template-summary"],
         "one of the arguments STACK/--template-file/--template-url is required"),
    ]
    for args, message in cases:
        proc = euca(*args, ini=moto_ini, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.splitlines()[-1] == f"{args[0]}: error: {message}"


def test_on_our_cloud(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The cloud lists no CloudFormation endpoint; asked anyway, it answers 501 in one line."""
    proc = euca("euform-describe-stacks", ini=cloud_ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euform-describe-stacks: error: No cloudformation endpoint")
    assert len(proc.stderr.splitlines()) == 1
    parser = configparser.ConfigParser()
    parser.read(cloud_ini)
    region = next(s for s in parser.sections() if s.startswith("region "))
    base = parser[region]["ec2-url"].rsplit("/services/", 1)[0]
    proc = euca("euform-list-stacks", "-U", f"{base}/services/CloudFormation", ini=cloud_ini,
                check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euform-list-stacks: error (NotImplemented): ")
    assert len(proc.stderr.splitlines()) == 1
