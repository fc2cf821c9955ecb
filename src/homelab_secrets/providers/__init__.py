"""Secrets managers: one module per service, behind one small interface.

* :mod:`~homelab_secrets.providers.base`: what every provider returns
  (:class:`~homelab_secrets.providers.base.Fetched`) and the interface it
  implements (:class:`~homelab_secrets.providers.base.Provider`);
* :mod:`~homelab_secrets.providers.http`: the one HTTP request path every
  provider uses: bounded retries with jittered backoff that honours
  ``Retry-After``, and errors that name the service, the HTTP status and what
  was asked for (never a token or a value);
* one module per service (``doppler``, ``infisical``), each handed its
  ``httpx.Client`` and its options, reading no environment variables: the
  command line and the actions map the environment to options.

Adding a provider is one new module here (and its fake under
``tests/fakes/``); nothing else needs to know about it except the registry in
:mod:`~homelab_secrets.providers.registry`.
"""
