# Install mamori as a Windows service (run in an elevated PowerShell).
# UNTESTED: written without access to a Windows machine; see README.md.
#   .\install.ps1 -Exe C:\mamori\mamori.exe -Config C:\ProgramData\mamori\mamori.toml
param(
    [Parameter(Mandatory = $true)][string]$Exe,
    [Parameter(Mandatory = $true)][string]$Config
)
$ErrorActionPreference = "Stop"

# State directory: database and fingerprint key, readable by SYSTEM and Administrators only.
$State = Join-Path $env:ProgramData "mamori"
New-Item -ItemType Directory -Force -Path $State | Out-Null
icacls $State /inheritance:r /grant:r "SYSTEM:(OI)(CI)F" "Administrators:(OI)(CI)F" | Out-Null

# Refuse a broken configuration before registering anything.
& $Exe validate --config $Config
if ($LASTEXITCODE -ne 0) { throw "mamori validate failed: fix $Config first" }

& $Exe service install --config $Config
if ($LASTEXITCODE -ne 0) { throw "mamori service install failed" }
Start-Service -Name mamori
Get-Service -Name mamori
