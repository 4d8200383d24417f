"""cronbridge in other projects' test suites: a server process per session, its clients, environment and clock.

With pytest the fixtures come by themselves (the `pytest11` entry point, cronbridge.testing.plugin); elsewhere:

    with cronbridge.testing.running_server() as server:
        ecs = server.client("ecs")
        server.clock.advance(minutes=30)
"""

from cronbridge.testing.server import CronbridgeServer, ManualClock, ServerError, running_server

__all__ = ["CronbridgeServer", "ManualClock", "ServerError", "running_server"]
