"""Record shapes of euca2ools output: record type -> allowed field counts (tag included)."""

from __future__ import annotations

SHAPES: dict[str, set[int]] = {
    "RESERVATION": {4},
    "INSTANCE": {33, 4},  # describe/run record, or the terminate/stop/start state change
    "BLOCKDEVICE": {7},
    "NETWORKINTERFACE": {9, 2},  # the record; the ID before an interface attribute
    "ATTACHMENT": {7, 6, 3, 2},  # network interface, volume, Internet gateway, attach output
    "ASSOCIATION": {4, 3},  # interface address or route table; network ACL, associate output
    "PRIVATEIPADDRESS": {4},
    "GROUP": {6, 4, 3, 2},  # describe, create, interface group, authorize
    "PERMISSION": {11, 12, 13, 15, 7, 9},
    "TAG": {5},
    "KEYPAIR": {3, 2},
    "ADDRESS": {8, 4, 3, 2, 6},
    "REGION": {3},
    "AVAILABILITYZONE": {4, 2},
    "IMAGE": {14, 2},
    "BLOCKDEVICEMAPPING": {4, 8},
    "VOLUME": {9, 7, 2},
    "SNAPSHOT": {9, 8, 2},
    "RETURN": {2},
    "ACCOUNTATTRIBUTE": {2},
    "VALUE": {2},
    "BUNDLE": {10},
    # VPC networking
    "VPC": {7},
    "SUBNET": {9},
    "INTERNETGATEWAY": {2},
    "NATGATEWAY": {9},
    "NATGATEWAYADDRESSES": {5},
    "ROUTETABLE": {3},
    "ROUTE": {5, 4},  # describe; create/replace output
    "PROPAGATINGVGW": {2},
    "NETWORKACL": {4},
    "ENTRY": {8},
    "DHCPOPTIONS": {2, 3},  # describe; associate output
    "OPTION": {3},
    "DESCRIPTION": {2},
    "SOURCEDESTCHECK": {2},
    "CUSTOMERGATEWAY": {6},
    "VPNGATEWAY": {5},
    "VGWATTACHMENT": {3},
    "VPNCONNECTION": {6},
    "VPCPEERINGCONNECTION": {4},
    "REQUESTERVPCINFO": {4},
    "ACCEPTERVPCINFO": {4},
}


def check_records(text: str) -> list[list[str]]:
    """Split output into records and assert each line has a known euca2ools shape."""
    records = []
    for line in text.splitlines():
        fields = line.split("\t")
        assert fields[0] in SHAPES, f"unknown record type in {line!r}"
        assert len(fields) in SHAPES[fields[0]], f"{fields[0]} has {len(fields)} fields: {line!r}"
        records.append(fields)
    return records


def ids(text: str, record: str, column: int = 1) -> list[str]:
    """Column ``column`` of every ``record`` line."""
    return [f[column] for f in (line.split("\t") for line in text.splitlines()) if f[0] == record]
