"""Domain operations, one module per resource. They raise ApiError and know nothing of HTTP."""
