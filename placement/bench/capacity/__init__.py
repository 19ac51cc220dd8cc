"""`placement bench capacity`: a program lead's capacity figures through the real service, each
beside a baseline measured in the same run.

For each scale of the demo's data set (1x and 10x by default, `data`), in a throw-away database,
with the service running under uvicorn with its worker inline and recording the statements it
sends (`placement.bench.recorded`), `reads`:

1. `GET /capacity?by=county` over HTTP as a program lead, N times: p50/p99, the SQL statements one
   request sends, and those statements replayed on a bare asyncpg connection N times, the slowest
   of them explained (`EXPLAIN ANALYZE`);
2. 90 days backfilled (`placement.capacity.history.backfill`, in this process): seconds and
   statements per day; then `GET /capacity/history?by=county` over those days, as in 1.

Then, at the service bench's scale (`placement.bench.service_data`: 1,500 free beds and 8,500
households, 10,000 targets, and 2,000 youth awaiting), `whatif`: one region's homes trained for
trafficking-specialised care and new beds in Worcester, POSTed and polled until answered, twice
(the first starts the solver's pool process), with the peak RSS of the server and its children
and the statements the server sent for it; beside the floor, `placement.capacity.whatif.what_if`
on the same data in this process, its load and its two solves timed apart. The pool process loads
the instance over a connection of its own, which the recording does not see: it sends what the
floor's load sends (`load_snapshot`), counted there.
"""
