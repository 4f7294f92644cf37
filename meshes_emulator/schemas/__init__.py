"""Wire models: pydantic request bodies and the functions that render stored rows as responses."""
