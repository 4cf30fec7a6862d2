# Register the weekly mamori report as a Windows scheduled task (run in an
# elevated PowerShell): every Monday at 06:00, `mamori report weekly` writes
# report.html, report.xlsx, findings.csv and report.json for the week that
# ended into `[report] directory`\<week>\ and removes week folders beyond
# `[report] keep_weeks` (see mamori.toml). The same as service/mamori-report.timer.
# UNTESTED: written without access to a Windows machine; see README.md.
#   .\register-report-task.ps1 -Exe C:\mamori\mamori.exe -Config C:\ProgramData\mamori\mamori.toml
#   .\register-report-task.ps1 ... -Lang en        # English report
#   Start-ScheduledTask -TaskName "mamori weekly report"   # run it now
param(
    [Parameter(Mandatory = $true)][string]$Exe,
    [Parameter(Mandatory = $true)][string]$Config,
    [ValidateSet("ja", "en")][string]$Lang = "ja",
    [string]$At = "06:00",
    [string]$TaskName = "mamori weekly report"
)
$ErrorActionPreference = "Stop"

# Refuse a broken configuration before registering anything.
& $Exe validate --config $Config
if ($LASTEXITCODE -ne 0) { throw "mamori validate failed: fix $Config first" }

$Action = New-ScheduledTaskAction -Execute $Exe `
    -Argument "report weekly --config `"$Config`" --lang $Lang" `
    -WorkingDirectory (Split-Path -Parent $Exe)
$Trigger = New-ScheduledTaskTrigger -Weekly -DaysOfWeek Monday -At $At
# SYSTEM reads the store in C:\ProgramData\mamori like the service does.
$Principal = New-ScheduledTaskPrincipal -UserId "SYSTEM" -LogonType ServiceAccount -RunLevel Highest
# A Monday missed while the machine was off runs when it is back; one run at a time.
$Settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -MultipleInstances IgnoreNew `
    -ExecutionTimeLimit (New-TimeSpan -Hours 2)

Register-ScheduledTask -TaskName $TaskName -Action $Action -Trigger $Trigger `
    -Principal $Principal -Settings $Settings `
    -Description "mamori: weekly findings report (report.html / report.xlsx / findings.csv / report.json)" `
    -Force | Out-Null
Get-ScheduledTask -TaskName $TaskName | Format-List TaskName, State
Get-ScheduledTaskInfo -TaskName $TaskName | Format-List NextRunTime
