"""JupyterLab settings for `make lab`."""

c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)

# FileUpload content travels over the kernel's websocket; the default 10 MiB limit silently
# drops larger uploads. A 250,000-row credential file is about 35 MB: allow 100 MiB.
c.ServerApp.tornado_settings = {"websocket_max_message_size": 100 * 1024 * 1024}
