"""The live sockets: camera connectors push frames in (connector.py), analysts' live views get them out
(live_view.py). Close codes are the site's table, common.socket_messages.Close."""

from integration.consumers.connector import ConnectorSocket
from integration.consumers.live_view import LiveViewSocket
from integration.consumers.wall import WallSocket

__all__ = ["ConnectorSocket", "LiveViewSocket", "WallSocket"]
