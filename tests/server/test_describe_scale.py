"""DescribeInstances over many instances, through boto3: paging by MaxResults/NextToken
(AWS's rules), filters by state and tag answered from indexes, lookups by id, and
another account's instances kept apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, running_cloud
from helpers import error_code, new_account, wait_state

CONFIG = """
[cloud]
terminated_retention_seconds = 86400

[[zones]]
name = "zone-1"
nodes = 8
node_cores = 64
node_memory_mb = 32768
node_disk_gb = 1000
boot_seconds = 0
teardown_seconds = 0
public_ips = ["10.200.0.1-10.200.2.250"]
"""

BATCHES = 5
BATCH = 80  # 400 instances, half of them terminated


@pytest.fixture(scope="module")
def big() -> Iterator[CloudProcess]:
    """A cloud that starts instances at once."""
    with running_cloud(CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def ec2(big: CloudProcess) -> Any:
    """The admin's EC2 client."""
    return big.client("ec2")


@pytest.fixture(scope="module")
def fleet(ec2: Any) -> dict[str, list[str]]:
    """400 instances in launch order: every other one terminated, 30 live ones tagged
    role=web, 10 terminated ones role=db."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids: list[str] = []
    for _ in range(BATCHES):
        r = ec2.run_instances(ImageId=image, MinCount=BATCH, MaxCount=BATCH)
        ids += [i["InstanceId"] for i in sorted(r["Instances"], key=lambda i: i["AmiLaunchIndex"])]
    live, dead = ids[0::2], ids[1::2]
    ec2.terminate_instances(InstanceIds=dead)
    wait_state(ec2, dead, "terminated")
    wait_state(ec2, live, "running")
    ec2.create_tags(Resources=live[:30], Tags=[{"Key": "role", "Value": "web"}])
    ec2.create_tags(Resources=dead[:10], Tags=[{"Key": "role", "Value": "db"}])
    return {"all": ids, "live": live, "dead": dead}


def _ids(resp: dict[str, Any]) -> list[str]:
    return [i["InstanceId"] for r in resp["Reservations"] for i in r["Instances"]]


def _walk(ec2: Any, size: int, **kw: Any) -> tuple[list[str], int]:
    """Every id over all pages of ``size``, and the number of pages."""
    seen: list[str] = []
    token, pages = None, 0
    while True:
        resp = ec2.describe_instances(MaxResults=size, **kw, **({"NextToken": token}
                                                                  if token else {}))
        page = _ids(resp)
        assert len(page) <= size
        seen += page
        pages += 1
        token = resp.get("NextToken")
        if not token:
            return seen, pages


def test_pages_cover_every_instance_once_in_launch_order(ec2, fleet) -> None:
    """MaxResults=100 over 400 instances: 4 full pages, each instance once, in launch
    order; boto3's paginator gets the same."""
    seen, pages = _walk(ec2, 100)
    assert seen[:400] == fleet["all"] and len(seen) == len(set(seen))
    assert pages == 4 or len(seen) > 400  # others' tests may have launched more
    everything = ec2.describe_instances()
    assert _ids(everything) == seen and "NextToken" not in everything
    paged = [i for page in ec2.get_paginator("describe_instances").paginate(
        PaginationConfig={"PageSize": 1000}) for i in _ids(page)]
    assert paged == seen


def test_page_reservations_group_instances(ec2, fleet) -> None:
    """A page cut inside a reservation shows the rest of it on the next page, under the
    same reservation id."""
    first = ec2.describe_instances(MaxResults=50)
    second = ec2.describe_instances(MaxResults=50, NextToken=first["NextToken"])
    a, b = first["Reservations"], second["Reservations"]
    assert len(a) == 1 and len(a[0]["Instances"]) == 50
    assert b[0]["ReservationId"] == a[0]["ReservationId"] and len(b[0]["Instances"]) == 30
    assert len(b) == 2 and len(b[1]["Instances"]) == 20


def test_max_results_rules(ec2, fleet) -> None:
    """MaxResults is 5..1000 and not with InstanceIds; a bad token is refused."""
    assert len(_ids(ec2.describe_instances(MaxResults=5))) == 5
    assert _ids(ec2.describe_instances(MaxResults=1000))[:400] == fleet["all"]
    for kw, code in (({"MaxResults": 4}, "InvalidParameterValue"),
                     ({"MaxResults": 1001}, "InvalidParameterValue"),
                     ({"MaxResults": 5, "InstanceIds": fleet["all"][:2]},
                      "InvalidParameterCombination"),
                     ({"MaxResults": 5, "NextToken": "bm90IGEgdG9rZW4="},
                      "InvalidPaginationToken"),
                     ({"NextToken": "eyJvIjogWzEsIDJdfQ=="}, "InvalidPaginationToken")):
        with pytest.raises(ClientError) as err:
            ec2.describe_instances(**kw)
        assert error_code(err) == code, kw
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_state_and_tag_filters(ec2, fleet) -> None:
    """State, tag (exact and wildcard), tag-key and their combinations, also paged."""
    def ids(*filters: tuple[str, list[str]]) -> list[str]:
        return _ids(ec2.describe_instances(
            Filters=[{"Name": n, "Values": v} for n, v in filters]))

    live, dead = fleet["live"], fleet["dead"]
    # Instances launched after the fleet (by other tests here) end up terminated, last.
    assert ids(("instance-state-name", ["running"])) == live
    assert ids(("instance-state-name", ["terminated"]))[:200] == dead
    assert ids(("instance-state-name", ["running", "terminated"]))[:400] == fleet["all"]
    assert ids(("instance-state-code", ["48"]))[:200] == dead
    assert ids(("tag:role", ["web"])) == live[:30]
    assert ids(("tag:role", ["web", "db"])) == sorted(
        live[:30] + dead[:10], key=fleet["all"].index)
    assert ids(("tag:role", ["w*"])) == live[:30]
    assert ids(("tag-key", ["role"]), ("instance-state-name", ["terminated"])) == dead[:10]
    assert ids(("tag:role", ["web"]), ("instance-state-name", ["terminated"])) == []
    assert ids(("tag:role", ["nobody"])) == []
    assert ids(("tag:nokey", ["web"])) == []
    assert ids(("instance-state-name", ["running"]), ("tag-value", ["we?"])) == live[:30]
    seen, pages = _walk(ec2, 7, Filters=[{"Name": "tag:role", "Values": ["web"]}])
    assert seen == live[:30] and pages == 5
    seen, pages = _walk(ec2, 150, Filters=[{"Name": "instance-state-name",
                                           "Values": ["running"]}])
    assert seen == live and pages == 2


def test_lookups_by_id(ec2, fleet) -> None:
    """InstanceIds and the instance-id filter return exactly those asked for, in launch
    order, live or terminated; unknown ids are errors only as InstanceIds."""
    some = [fleet["all"][n] for n in (399, 3, 200, 0)]
    assert _ids(ec2.describe_instances(InstanceIds=some)) == sorted(some,
                                                                    key=fleet["all"].index)
    got = ec2.describe_instances(InstanceIds=[fleet["dead"][5]])["Reservations"]
    assert got[0]["Instances"][0]["State"]["Name"] == "terminated"
    assert _ids(ec2.describe_instances(Filters=[{"Name": "instance-id",
                                                 "Values": some[:2]}])) == [some[1], some[0]]
    assert _ids(ec2.describe_instances(Filters=[{"Name": "instance-id",
                                                 "Values": ["i-00000000000000000"]}])) == []
    with pytest.raises(ClientError) as err:
        ec2.describe_instances(InstanceIds=[some[0], "i-00000000000000000"])
    assert error_code(err) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as err:
        ec2.describe_instances(InstanceIds=["bogus"])
    assert error_code(err) == "InvalidInstanceID.Malformed"


def _statuses(ec2: Any, **kw: Any) -> list[str]:
    """Every instance id DescribeInstanceStatus lists, over all its pages."""
    return [s["InstanceId"] for page in ec2.get_paginator("describe_instance_status")
            .paginate(**kw, PaginationConfig={"PageSize": 100})
            for s in page["InstanceStatuses"]]


def test_instance_status_from_the_indexes(ec2, fleet) -> None:
    """DescribeInstanceStatus lists the running instances in launch order (all of them
    with IncludeAllInstances), narrowed by zone and state filters, looked up by id; the
    same answer DescribeInstances gives for the same question."""
    running = _ids(ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}]))
    assert _statuses(ec2) == running
    assert set(fleet["live"]) <= set(running)
    assert not set(fleet["dead"]) & set(running)
    everything = _statuses(ec2, IncludeAllInstances=True)
    assert set(fleet["all"]) <= set(everything)
    assert everything == [i for i in _ids(ec2.describe_instances()) if i in set(everything)]
    dead = _statuses(ec2, IncludeAllInstances=True,
                     Filters=[{"Name": "instance-state-name", "Values": ["terminated"]}])
    assert set(fleet["dead"]) <= set(dead) and not set(dead) & set(running)
    assert _statuses(ec2, Filters=[{"Name": "availability-zone", "Values": ["zone-1"]}]) == \
        running
    assert _statuses(ec2, Filters=[{"Name": "availability-zone", "Values": ["nowhere"]}]) == []
    some = [fleet["live"][5], fleet["live"][2], fleet["dead"][0]]
    found = ec2.describe_instance_status(InstanceIds=some)["InstanceStatuses"]
    assert [s["InstanceId"] for s in found] == [fleet["live"][2], fleet["live"][5]]
    found = ec2.describe_instance_status(InstanceIds=some, IncludeAllInstances=True)[
        "InstanceStatuses"]
    assert {s["InstanceId"]: s["InstanceState"]["Name"] for s in found} == {
        fleet["live"][5]: "running", fleet["live"][2]: "running",
        fleet["dead"][0]: "terminated"}


def test_paging_while_instances_change(ec2, fleet) -> None:
    """A NextToken marks a place, not an offset: instances that end or start between
    pages neither repeat nor push others out of the walk."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    walk = [{"Name": "tag:walk", "Values": ["me"]}]

    def launch(n: int) -> list[str]:
        r = ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n)
        ids = [i["InstanceId"] for i in sorted(r["Instances"],
                                               key=lambda i: i["AmiLaunchIndex"])]
        ec2.create_tags(Resources=ids, Tags=[{"Key": "walk", "Value": "me"}])
        return ids

    mine = launch(12)  # the only instances of this account launched after the fleet
    for filters in (walk, []):  # few hits (sorted) and the whole ordered list (walked)
        # The first page: 5 of mine (after the fleet's 400 when unfiltered).
        first = ec2.describe_instances(MaxResults=5 if filters else 405, Filters=filters)
        seen = _ids(first)
        ec2.terminate_instances(InstanceIds=[seen[-1]])  # behind the token
        wait_state(ec2, [seen[-1]], "terminated")
        mine += launch(2)  # ahead of it
        token = first["NextToken"]
        while token:
            resp = ec2.describe_instances(MaxResults=5 if filters else 1000, NextToken=token,
                                          Filters=filters)
            seen += _ids(resp)
            token = resp.get("NextToken")
        assert len(seen) == len(set(seen))
        if filters:
            assert seen == mine
        else:
            assert seen[:400] == fleet["all"] and seen[-len(mine):] == mine
    ec2.terminate_instances(InstanceIds=mine)
    wait_state(ec2, mine, "terminated")


def test_other_accounts_stay_apart(big, ec2, fleet) -> None:
    """Another account sees only its own instances in pages and tag lookups, though
    the indexes hold every account's."""
    _, key, secret = new_account(big, "scale-other")
    other = big.client("ec2", key=key, secret=secret)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    mine = [i["InstanceId"] for i in other.run_instances(ImageId=image, MinCount=3,
                                                          MaxCount=3)["Instances"]]
    other.create_tags(Resources=mine, Tags=[{"Key": "role", "Value": "web"}])
    assert sorted(_ids(other.describe_instances(MaxResults=5))) == sorted(mine)
    assert sorted(_ids(other.describe_instances(
        Filters=[{"Name": "tag:role", "Values": ["web"]}]))) == sorted(mine)
    web = _ids(ec2.describe_instances(Filters=[{"Name": "tag:role", "Values": ["web"]}]))
    assert not set(web) & set(mine)
    with pytest.raises(ClientError) as err:
        other.describe_instances(InstanceIds=[fleet["live"][0]])
    assert error_code(err) == "InvalidInstanceID.NotFound"
    other.terminate_instances(InstanceIds=mine)


def test_big_group_listing_matches_lookups(ec2) -> None:
    """More than 100 security groups (an answer rendered in slices) read the same as
    each group looked up alone."""
    made = []
    for n in range(120):
        gid = ec2.create_security_group(GroupName=f"scale-{n:03d}",
                                        Description=f"group <{n}> & co")["GroupId"]
        made.append(gid)
    ec2.authorize_security_group_ingress(GroupId=made[7], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.create_tags(Resources=[made[9]], Tags=[{"Key": "k", "Value": "v&w"}])
    listed = {g["GroupId"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert set(made) <= set(listed)
    for gid in (made[0], made[7], made[9], made[119]):
        alone = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"]
        assert alone == [listed[gid]]
    assert listed[made[9]]["Tags"] == [{"Key": "k", "Value": "v&w"}]
    assert listed[made[7]]["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    for gid in made:
        ec2.delete_security_group(GroupId=gid)


def test_indexes_rebuilt_after_restart(big, fleet) -> None:
    """After a restart the indexes come back from the stored records and tags."""
    big.restart()
    ec2 = big.client("ec2")
    assert _ids(ec2.describe_instances(
        Filters=[{"Name": "tag:role", "Values": ["web"]}]))[:30] == fleet["live"][:30]
    assert _ids(ec2.describe_instances(
        Filters=[{"Name": "tag:role", "Values": ["db"]},
                 {"Name": "instance-state-name", "Values": ["terminated"]}])) == \
        fleet["dead"][:10]
    seen, _ = _walk(ec2, 1000)
    assert seen[:400] == fleet["all"]


def test_concurrent_walks_while_tags_change(big, fleet) -> None:
    """Eight clients walk pages of 200 (answers built in turns, in slices) while another
    retags instances: every walk has every instance once, in order, each with one of
    its tag values."""
    from concurrent.futures import ThreadPoolExecutor

    tagger = big.client("ec2")
    targets = fleet["live"][30:130]

    def walk(_: int) -> list[dict[str, Any]]:
        ec2 = big.client("ec2")
        out: list[dict[str, Any]] = []
        token = None
        while True:
            resp = ec2.describe_instances(MaxResults=200, **({"NextToken": token}
                                                             if token else {}))
            out += [i for r in resp["Reservations"] for i in r["Instances"]]
            token = resp.get("NextToken")
            if not token:
                return out

    with ThreadPoolExecutor(9) as pool:
        walks = [pool.submit(walk, n) for n in range(8)]
        for n in range(6):
            tagger.create_tags(Resources=targets, Tags=[{"Key": "round", "Value": str(n)}])
        results = [w.result() for w in walks]
    for items in results:
        ids = [i["InstanceId"] for i in items]
        assert ids[:400] == fleet["all"] and len(ids) == len(set(ids))
        for item in items:
            if item["InstanceId"] in targets:
                rounds = [t["Value"] for t in item.get("Tags", []) if t["Key"] == "round"]
                assert len(rounds) <= 1 and set(rounds) <= {str(n) for n in range(6)}
