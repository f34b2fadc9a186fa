from mcpgw.runtime.service import run
from mcpgw_registry.service import RegistryService
from mcpgw_registry.settings import load

run("registry", load, RegistryService)
