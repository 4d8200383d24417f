"""Server processes sharing one database: this process among its peers (group.py: who is alive, who runs which task,
requests to another process), its inbox of requests (inbox.py), and cached answers kept fresh (caches.py). The
design is argued in docs/architecture.md."""
