"""The `onequeue` command line: operators run the worker, staff work tickets, administrators check configuration.

Entry point: `cli.main:main`.
"""
