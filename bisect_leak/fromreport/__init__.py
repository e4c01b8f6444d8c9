"""From a leak report (Markdown) to a scenario folder: ``bisect-leak scenario from-report``.

Pure modules read the text (``markdown``, ``indent``, ``app``, ``weight``, ``routes``,
``load``, ``requirements``, ``versions``, ``server``, ``syntax``) and ``draft`` combines them
into a :class:`draft.Draft`;
``write`` writes the folder, ``check`` runs the smoke check, ``command`` is the click shell.
"""
