"""The task role's credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), as ECS serves it to a task."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge.errors import AwsError
from cronbridge.identity.authorizer import CREDENTIALS_PATH


async def task_credentials(request: Request) -> Response:
    """GET with the task's Authorization token -> {AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn}."""
    system = request.app.state.system
    token = request.headers.get("authorization", "")
    try:
        found = system.authorizer.task_credentials(request.path_params["task_id"], token)
    except AwsError as err:
        status = 403 if err.code in ("AccessDeniedException", "AccessDenied") else err.status
        return JSONResponse({"code": err.code, "message": err.message}, status)
    return JSONResponse(found)


def routes() -> list[Route]:
    return [Route(CREDENTIALS_PATH + "/{task_id}", task_credentials, methods=["GET"])]
