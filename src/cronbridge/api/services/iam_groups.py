"""IAM groups over the query protocol: groups and their members (group policies go through iam.py's handlers)."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler
from cronbridge.api.services.iam_shapes import Params, Result, identity_of, page, user_out
from cronbridge.identity.model import Group


def group_out(group: Group) -> dict[str, Any]:
    return {"Path": group.path, "GroupName": group.name, "GroupId": group.group_id, "Arn": group.arn,
            "CreateDate": group.created_at}


def create_group(ctx: RequestContext, p: Params) -> Result:
    return {"Group": group_out(identity_of(ctx).groups.create(p["GroupName"], p.get("Path", "/")))}


def get_group(ctx: RequestContext, p: Params) -> Result:
    groups = identity_of(ctx).groups
    group = groups.get(p["GroupName"])
    users = []
    for user in groups.members(group.name):
        shown = user_out(user)
        shown.pop("Tags", None)
        shown.pop("PermissionsBoundary", None)
        users.append(shown)
    return {"Group": group_out(group), **page(users, p, "Users")}


def list_groups(ctx: RequestContext, p: Params) -> Result:
    return page([group_out(g) for g in identity_of(ctx).groups.all(p.get("PathPrefix", "/"))], p, "Groups")


def list_groups_for_user(ctx: RequestContext, p: Params) -> Result:
    return page([group_out(g) for g in identity_of(ctx).groups.of_user(p["UserName"])], p, "Groups")


def update_group(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).groups.update(p["GroupName"], p.get("NewGroupName"), p.get("NewPath"))
    return None


def delete_group(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).groups.delete(p["GroupName"])
    return None


def add_user_to_group(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).groups.add_user(p["GroupName"], p["UserName"])
    return None


def remove_user_from_group(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).groups.remove_user(p["GroupName"], p["UserName"])
    return None


OPERATIONS: dict[str, Handler] = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "ListGroupsForUser": list_groups_for_user,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
}
