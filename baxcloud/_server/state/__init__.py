"""The server's state in SQLite: rows, their JSON and their changes, one module per resource.

Every function runs inside the caller's transaction (the request's, or a
scheduler sweep's) and records the event of each change as it happens
(`events`). Rooms and participants know nothing of the media resources;
`cascade` wires what a change in one resource sets off in another.
"""
