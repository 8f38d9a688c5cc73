"""The resources IAM actions touch, as IAM names them (for the action table's declarations).

``arn:aws:iam::ACCOUNT:user/PATH/NAME`` for actions on a user (the caller itself when
``UserName`` is absent and IAM defaults to the caller), ``group/PATH/NAME`` for groups.
"""

from __future__ import annotations

from server.auth.authz import iam_param

#: The user named by ``UserName``.
USER = iam_param("UserName", "user")
#: The user named by ``UserName``, or the caller when it is absent.
USER_OR_SELF = iam_param("UserName", "user", default_self=True)
#: The group named by ``GroupName``.
GROUP = iam_param("GroupName", "group")
