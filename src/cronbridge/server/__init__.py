"""The server: one process (process.py: uvicorn around the app, with its watchdog), or several processes on one port
and one database (supervisor.py)."""
