"""Discrete-event simulation of office days on the real domain core (DESIGN §9).

``engine`` replays residents (``population``) through ``madoguchi.server.core.office.Office``
under the balanced policy or today's static routing; ``runner`` repeats it over seeds and days;
``measures`` and ``report`` turn the records into tables and plots; ``cli`` is
``madoguchi simulate``. numpy and matplotlib are needed only for reports and plots.
"""
