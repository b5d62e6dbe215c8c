"""The status API and the live map (`stswatch api`): FastAPI over the Redis status store."""
