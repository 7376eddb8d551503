use std::io;

fn main() {
    let code = docker_credential_acr_helper::cli::run(
        std::env::args_os().collect(),
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr(),
        docker_credential_acr_helper::Env::from_process(),
    );
    std::process::exit(code);
}
