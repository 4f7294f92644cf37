"""The SQL of one page of a list: keyset start, filters, `limit + 1` rows (see paging.py)."""

from __future__ import annotations

from typing import Any

from meshes_emulator.paging import PageRequest


def scoped_page_query(
    org_id: str,
    req: PageRequest,
    workspace_id: str | None = None,
    filters: dict[str, str] | None = None,
) -> tuple[str, list[Any]]:
    """` WHERE ... ORDER BY rowid DESC LIMIT ?` and its params: one organization (optionally one
    workspace), exact-match column filters, the keyset page start and `limit + 1` rows."""
    where = ["org_id = ?"]
    params: list[Any] = [org_id]
    if workspace_id is not None:
        where.append("workspace_id = ?")
        params.append(workspace_id)
    for column, value in (filters or {}).items():
        where.append(f"{column} = ?")
        params.append(value)
    clause, extra = keyset_clause(req)
    sql = f" WHERE {' AND '.join(where)}{clause} ORDER BY rowid DESC LIMIT ?"
    return sql, [*params, *extra, req.limit + 1]


def keyset_clause(req: PageRequest) -> tuple[str, list[Any]]:
    """SQL fragment (` AND rowid < ?`) and params for the page start."""
    if req.after is None:
        return "", []
    return " AND rowid < ?", [req.after]
