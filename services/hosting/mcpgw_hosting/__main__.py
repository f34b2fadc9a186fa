from mcpgw.runtime.service import run
from mcpgw_hosting.service import HostingService
from mcpgw_hosting.settings import load

run("hosting", load, HostingService)
