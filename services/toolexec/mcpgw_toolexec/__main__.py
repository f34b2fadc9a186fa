from mcpgw.runtime.service import run
from mcpgw_toolexec.service import ToolexecService
from mcpgw_toolexec.settings import load

run("toolexec", load, ToolexecService)
