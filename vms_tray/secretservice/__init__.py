"""The freedesktop Secret Service, spoken directly over D-Bus (Linux).

    backend.py     SecretServiceKeyring: a keyring backend, the one vms_tray.credentials picks
                   on Linux where keyring's discovery would pick Secret Service too
    bus.py         the process's one connection to the Secret Service, and why only one
    transfer.py    how a secret crosses the bus: Diffie-Hellman agreed key, or plain
    aes.py         AES-128-CBC with PKCS #7 padding, for the transfer

Why: keyring's own Secret Service backend loads ``cryptography`` for one decryption per password,
about 9 MB resident in every process of ours that reads one (issue 13).
"""
