"""dispatch — calls for service (pushed by computer-aided dispatch) and officer positions (pushed by vehicle
location), their purges on the beat schedule, and the staff map's live `ws/dispatch/` socket.

Owns `CallForService` and `OfficerPosition`. Writes in `services.py` (`call_receive`, `call_promote`,
`position_record`, `positions_record`, `calls_purge`, `positions_purge`), reads in `selectors.py`. It reads
cameras through `registry.selectors` and opens incidents through `requests_app.services.incident_create`;
`live.py` coalesces events per process before they go to the channel layer. Nothing here knows about HTTP: the
API (`api`) and the map socket are adapters.
"""
