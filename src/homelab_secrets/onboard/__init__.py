"""Bringing SOPS + age to a repository (``homelab-secrets init``), and the
parts of it ``rekey`` reuses.

The roadmap's five manual steps, each in one module:

* :mod:`.agekey`: age key pairs in memory, and the text a secrets manager
  keeps (one identity, or two while a rotation is under way);
* :mod:`.keystore`: that text in Doppler or Infisical, written and read back;
* :mod:`.localkey`: the person's own copy: the OS keychain (macOS
  ``security``, Secret Service ``secret-tool``) or sops' keys file;
* :mod:`.presets`: the creation rules per kind of repository (Terraform,
  Ansible, dotenv) and how a kind is recognised;
* :mod:`.sopsyaml`: ``.sops.yaml`` written, or merged into by editing its text
  where ruamel.yaml says the rules are (nothing else in the file moves), on
  top of :mod:`.yamledit` (text edits at ruamel.yaml's marks, checked by
  parsing the result again);
* :mod:`.discover`: the files of a repository, what git ignores, which
  plaintext files the rules cover and where each goes once encrypted;
* :mod:`.seal`: each file encrypted through the one encrypt path, decrypted
  again and compared before the original is touched;
* :mod:`.guard`: the pre-commit hook entry and the caller workflows;
* :mod:`.plan`: a plan of changes (title, diff, work), shown or made;
* :mod:`.init`: the plan of every change, shown (``--dry-run``) or made in a
  safe order; :mod:`.finish` its last part (``.gitignore``, the guard, what
  is left to do by hand).

Nothing here prints a private key, writes one to disk (except sops' keys file
when asked), or puts one in a message, a repr or a child's argv.
"""
