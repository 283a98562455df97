"""Events the reports app announces to higher apps (which subscribe in their AppConfig.ready()).

`tip_committed` — sent once per new tip, after the transaction that saved it has committed, with the
keyword argument `tip_id` (int) and `sender=Tip`. Every channel sends it: the public form and API,
staff entry (page and API), demo data. Receivers must be quick and must not assume Redis or the workers
are up (enqueue a task and let the periodic sweep catch what fails); errors in a receiver are logged
and never undo or fail the submission. The tip arrives with `routed_at` empty.
"""

import django.dispatch

tip_committed = django.dispatch.Signal()
