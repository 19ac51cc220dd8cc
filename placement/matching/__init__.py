"""The matcher: a pure engine that decides who goes where and why (no I/O, no global state).

``rank`` proposes targets for one youth or one sibling group; ``solve_batch`` places many youth
jointly with a proven bound; ``explain`` says which rules ruled pairs out. The JSON instance
format and the ``placement match`` commands are described in ``README.md`` beside this file.
"""
