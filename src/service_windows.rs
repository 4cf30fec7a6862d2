//! Running as a Windows service (windows-service crate). The service
//! manager's Stop and Shutdown map to the same shutdown path as SIGTERM on
//! Linux (`daemon::Control`).
//!
//! UNTESTED: this machine has no Windows target, so this file has never
//! been compiled. It is kept small on purpose; everything it calls
//! (`daemon::run`) is platform-independent and tested on Linux.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use windows_service::service::{
    ServiceAccess, ServiceControl, ServiceControlAccept, ServiceErrorControl, ServiceExitCode,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

const NAME: &str = "mamori";
static CONFIG: OnceLock<PathBuf> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Called by the service manager (`mamori service run --config FILE`).
pub fn run(config: &Path) -> anyhow::Result<()> {
    let _ = CONFIG.set(config.to_path_buf());
    service_dispatcher::start(NAME, ffi_service_main)?;
    Ok(())
}

fn service_main(_args: Vec<OsString>) {
    let control = crate::daemon::Control::default();
    let stop = control.shutdown.clone();
    let handler = move |event| match event {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            stop.store(true, Ordering::SeqCst);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(status) = service_control_handler::register(NAME, handler) else {
        return;
    };
    let set = |state, code| {
        let _ = status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: if state == ServiceState::Running {
                ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
            } else {
                ServiceControlAccept::empty()
            },
            exit_code: ServiceExitCode::Win32(code),
            checkpoint: 0,
            wait_hint: Duration::from_secs(150),
            process_id: None,
        });
    };
    set(ServiceState::Running, 0);
    let result = match CONFIG.get() {
        Some(c) => crate::daemon::run(c, control, crate::daemon::Mode::Resident),
        None => Err(anyhow::anyhow!("no configuration")),
    };
    if let Err(e) = &result {
        tracing::error!("mamori service stopped: {e:#}");
    }
    set(ServiceState::Stopped, if result.is_ok() { 0 } else { 1 });
}

/// Registers the service (automatic start) with its configuration file.
pub fn install(config: &Path) -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )?;
    let info = ServiceInfo {
        name: OsString::from(NAME),
        display_name: OsString::from("mamori (個人情報スキャナ)"),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: std::env::current_exe()?,
        launch_arguments: vec![
            "service".into(),
            "run".into(),
            "--config".into(),
            config.as_os_str().to_owned(),
        ],
        dependencies: vec![],
        account_name: None,
        account_password: None,
    };
    let service = manager.create_service(&info, ServiceAccess::CHANGE_CONFIG)?;
    service.set_description(
        "Finds personal information and My Number in file shares and mail exports",
    )?;
    Ok(())
}

/// Stops (if running) and removes the service.
pub fn uninstall() -> anyhow::Result<()> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let service = manager.open_service(
        NAME,
        ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
    )?;
    if service.query_status()?.current_state != ServiceState::Stopped {
        service.stop()?;
    }
    service.delete()?;
    Ok(())
}
