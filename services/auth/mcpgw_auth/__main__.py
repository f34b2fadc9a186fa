from mcpgw.runtime.service import run
from mcpgw_auth.service import AuthService
from mcpgw_auth.settings import load

run("auth", load, AuthService)
