"""Built-in working-day calendars: mainland China from two maintained libraries."""
from govhall_sdk import china_holidays_source, chinesecalendar_source, hookimpl


@hookimpl
def govhall_register_calendars(register):
    """``cn`` (the default, from the ``holidays`` package) and ``cn-chinesecalendar``."""
    register("cn", china_holidays_source)
    register("cn-chinesecalendar", chinesecalendar_source)
