"""aws_ecs_cluster: CreateCluster, UpdateCluster, TagResource / UntagResource, DeleteCluster."""

from __future__ import annotations

from cronbridge.terraform.resources.base import Aws, ResourceType, Values, drop_none, retag_ecs, tags_list
from cronbridge.terraform.schema import Attr, BlockSpec, computed, required

SCHEMA = BlockSpec(
    attrs={
        "name": required(force_new=True),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "id": computed(),
    },
    blocks={"setting": BlockSpec({"name": required(), "value": required()})},
)


def _settings(values: Values) -> list[dict[str, str]]:
    return [{"name": s["name"], "value": s["value"]} for s in values.get("setting") or []]


def create(aws: Aws, values: Values) -> Values:
    """Create the cluster."""
    reply = aws.client("ecs").create_cluster(
        **drop_none(
            clusterName=values["name"],
            settings=_settings(values),
            tags=tags_list(values.get("tags"), "key", "value"),
        )
    )
    arn = reply["cluster"]["clusterArn"]
    return {**values, "arn": arn, "id": arn, "tags_all": values.get("tags") or {}}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Change settings and tags in place."""
    if _settings(old) != _settings(new):
        aws.client("ecs").update_cluster(cluster=old["arn"], settings=_settings(new))
    retag_ecs(aws, old["arn"], old, new)
    return {**new, "arn": old["arn"], "id": old["id"], "tags_all": new.get("tags") or {}}


def delete(aws: Aws, values: Values) -> None:
    """Delete the cluster."""
    aws.client("ecs").delete_cluster(cluster=values["arn"])


def exists(aws: Aws, values: Values) -> bool:
    """ACTIVE in DescribeClusters."""
    clusters = aws.client("ecs").describe_clusters(clusters=[values["arn"]])["clusters"]
    return any(c.get("status") == "ACTIVE" for c in clusters)


TYPE = ResourceType("aws_ecs_cluster", SCHEMA, create, delete, update, exists)
