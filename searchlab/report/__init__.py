"""Reports of a campaign: summary and fronts (:mod:`~searchlab.report.summary`), plots,
the HTML report and a sweep's summary.
"""
