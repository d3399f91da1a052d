"""Side-by-side benchmark of vpskit, Ansible and pyinfra doing the same hardening profile on lab hosts."""
