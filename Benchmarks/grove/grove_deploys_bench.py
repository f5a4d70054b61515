# A HashiCorp Grove connector for the deploys.app audit log (`auditLog.list`), used only by the
# benchmark's side-by-side scenario against the same emulator audit-forwarder reads. It pages the
# way Grove's own reverse-chronological connectors do (Slack's, Okta's): newest first, `before`
# moved to the last item's time, Grove's pointer and de-duplication doing the rest.
from datetime import datetime, timedelta, timezone

import requests

from grove.connectors import BaseConnector
from grove.constants import REVERSE_CHRONOLOGICAL
from grove.exceptions import NotFoundException


class Connector(BaseConnector):
    CONNECTOR = "deploys_audit_log"
    POINTER_PATH = "createdAt"
    LOG_ORDER = REVERSE_CHRONOLOGICAL

    def collect(self):
        base_url = self.configuration.base_url  # an extra field of the connector's document
        try:
            _ = self.pointer
        except NotFoundException:
            since = datetime.now(timezone.utc) - timedelta(days=8)
            self.pointer = since.strftime("%Y-%m-%dT%H:%M:%SZ")

        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        while True:
            response = session.post(
                f"{base_url}/auditLog.list",
                json={"project": self.identity, "after": self.pointer, "before": before, "limit": 100},
                timeout=30,
            )
            response.raise_for_status()
            items = (response.json().get("result") or {}).get("items") or []
            self.save(items)
            if len(items) < 100 or items[-1]["createdAt"] == before:
                break
            before = items[-1]["createdAt"]
