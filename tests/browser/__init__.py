"""End-to-end browser tests: the runbooks in JupyterLab, driven by Chromium through Playwright."""
