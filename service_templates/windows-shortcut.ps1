# vms-tray: creates the Start-menu shortcut (a .lnk needs COM: WScript.Shell does it).
# 'vms-tray shortcut install' runs this with powershell -NoProfile -NonInteractive; the values come
# from environment variables so no path is ever parsed as PowerShell code.
$ErrorActionPreference = 'Stop'
$shell = New-Object -ComObject WScript.Shell
$link = $shell.CreateShortcut($env:VMS_TRAY_LNK)
$link.TargetPath = $env:VMS_TRAY_TARGET
$link.Arguments = $env:VMS_TRAY_ARGUMENTS
$link.WorkingDirectory = $env:VMS_TRAY_WORKDIR
$link.IconLocation = $env:VMS_TRAY_ICON
$link.Description = 'Sign in to your video-surveillance server and keep the session alive'
$link.Save()
