"""IAM OpenID Connect providers over the query protocol (AssumeRoleWithWebIdentity checks tokens against them)."""

from __future__ import annotations

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler
from cronbridge.api.services.iam_shapes import Params, Result, identity_of, page, tags_in, tags_out


def create_open_id_connect_provider(ctx: RequestContext, p: Params) -> Result:
    made = identity_of(ctx).oidc.create(p["Url"], p.get("ClientIDList", []), p.get("ThumbprintList", []), tags_in(p))
    out: dict[str, object] = {"OpenIDConnectProviderArn": made.arn}
    if made.tags:
        out["Tags"] = tags_out(dict(made.tags))
    return out


def get_open_id_connect_provider(ctx: RequestContext, p: Params) -> Result:
    found = identity_of(ctx).oidc.get(p["OpenIDConnectProviderArn"])
    return {"Url": found.url, "ClientIDList": list(found.client_ids), "ThumbprintList": list(found.thumbprints),
            "CreateDate": found.created_at, "Tags": tags_out(dict(found.tags))}


def list_open_id_connect_providers(ctx: RequestContext, p: Params) -> Result:
    return {"OpenIDConnectProviderList": [{"Arn": x.arn} for x in identity_of(ctx).oidc.all()]}


def delete_open_id_connect_provider(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.delete(p["OpenIDConnectProviderArn"])
    return None


def add_client_id(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.add_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])
    return None


def remove_client_id(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.remove_client_id(p["OpenIDConnectProviderArn"], p["ClientID"])
    return None


def update_thumbprint(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.update_thumbprints(p["OpenIDConnectProviderArn"], p["ThumbprintList"])
    return None


def tag_provider(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.tag(p["OpenIDConnectProviderArn"], tags_in(p))
    return None


def untag_provider(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).oidc.untag(p["OpenIDConnectProviderArn"], p["TagKeys"])
    return None


def list_provider_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(dict(identity_of(ctx).oidc.get(p["OpenIDConnectProviderArn"]).tags)), p, "Tags")


OPERATIONS: dict[str, Handler] = {
    "CreateOpenIDConnectProvider": create_open_id_connect_provider,
    "GetOpenIDConnectProvider": get_open_id_connect_provider,
    "ListOpenIDConnectProviders": list_open_id_connect_providers,
    "DeleteOpenIDConnectProvider": delete_open_id_connect_provider,
    "AddClientIDToOpenIDConnectProvider": add_client_id,
    "RemoveClientIDFromOpenIDConnectProvider": remove_client_id,
    "UpdateOpenIDConnectProviderThumbprint": update_thumbprint,
    "TagOpenIDConnectProvider": tag_provider,
    "UntagOpenIDConnectProvider": untag_provider,
    "ListOpenIDConnectProviderTags": list_provider_tags,
}
