from mcpgw.runtime.service import run
from mcpgw_edge.service import EdgeService
from mcpgw_edge.settings import load

run("edge", load, EdgeService)
