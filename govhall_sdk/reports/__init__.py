"""Supervisors' reports (``govhall report``): the dashboard, the 帮办代办 ledger, the assessment and the
return-visit list, each a pure function of :class:`~govhall_sdk.reports.data.ReportData`."""
