# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Heketi's TLS material from the role's own CA, with the Python ``cryptography`` library. PRIVATE.

Pure functions over PEM bytes (no file access): the heketi_certificate module reads the files, asks
``plan_certificate`` what to do and writes what it is handed back.

Runs on the Heketi host (EL 7: Python 2.7 and python2-cryptography 1.7): no Python 3-only syntax, the
backend passed explicitly, the time stamps read without the ``*_utc`` properties when they are missing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import traceback

from ansible.module_utils.common.text.converters import to_text

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

try:
    from datetime import timezone
    _UTC = timezone.utc
except ImportError:  # Python 2.7
    _UTC = None

CA_CURVE = 'secp384r1'
SERVER_CURVE = 'secp256r1'


class TLSError(Exception):
    """A file the module must not replace (the CA key, the CA certificate) is not what it should be."""


def utcnow():
    """Now, naive UTC (datetime.utcnow is deprecated from Python 3.12; Python 2.7 has no timezone)."""
    if _UTC is None:
        now = datetime.datetime.utcnow()
    else:
        now = datetime.datetime.now(_UTC).replace(tzinfo=None)
    return now.replace(microsecond=0)


def _naive_utc(value):
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def not_after(cert):
    """The certificate's notAfter as a naive UTC datetime (every cryptography version)."""
    value = getattr(cert, 'not_valid_after_utc', None)
    return _naive_utc(value if value is not None else cert.not_valid_after)


def parse_sans(entries, field='subject_alt_names'):
    """``IP:<address>`` / ``DNS:<name>`` entries (the subject_alt_names filter's output) -> canonical
    entries, in order, without duplicates. A bad entry is a ValueError naming it."""
    out = []
    for index, raw in enumerate(entries):
        entry = to_text(raw).strip()
        kind, sep, value = entry.partition(':')
        kind = kind.upper()
        if not sep or not value or kind not in ('IP', 'DNS'):
            raise ValueError('%s[%d] %r must be IP:<address> or DNS:<name>' % (field, index, entry))
        if kind == 'IP':
            try:
                value = to_text(ipaddress.ip_address(value))
            except ValueError:
                raise ValueError('%s[%d] %r is not an IP address' % (field, index, entry))
        else:
            value = value.rstrip('.').lower()
        canonical = '%s:%s' % (kind, value)
        if canonical not in out:
            out.append(canonical)
    if not out:
        raise ValueError('%s must name at least one address or host name' % field)
    return out


def _general_names(sans):
    names = []
    for entry in sans:
        kind, value = entry.split(':', 1)
        names.append(x509.IPAddress(ipaddress.ip_address(value)) if kind == 'IP' else x509.DNSName(value))
    return names


def cert_sans(cert):
    """The certificate's SANs as canonical ``IP:``/``DNS:`` entries (sorted), [] without the extension."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = ['IP:%s' % ip for ip in ext.get_values_for_type(x509.IPAddress)]
    out += ['DNS:%s' % to_text(name).lower() for name in ext.get_values_for_type(x509.DNSName)]
    return sorted(out)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, to_text(common_name))])


def common_name(cert):
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return to_text(attrs[0].value) if attrs else None


def issuer_text(cert):
    return ', '.join('%s=%s' % (a.oid._name, a.value) for a in cert.issuer)


# ------------------------------------------------------------------------------------------- keys
def new_key(curve):
    return ec.generate_private_key(getattr(ec, curve.upper())(), default_backend())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_key(data):
    """A PEM private key without passphrase, or None when ``data`` is not one."""
    try:
        return serialization.load_pem_private_key(data, None, default_backend())
    except (ValueError, TypeError):
        return None
    except Exception:  # pylint: disable=broad-except
        # cryptography raises UnsupportedAlgorithm for some malformed keys
        return None


def is_ec_key(key, curve):
    return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == curve


def load_cert(data):
    """A PEM certificate, or None when ``data`` is not one."""
    try:
        return x509.load_pem_x509_certificate(data, default_backend())
    except (ValueError, TypeError):
        return None


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(cert, key):
    return _public_der(cert.public_key()) == _public_der(key.public_key())


def signed_by(cert, ca_cert):
    """Whether ``cert`` was issued by ``ca_cert``: the issuer name matches and the CA's key verifies the signature."""
    if cert.issuer != ca_cert.subject:
        return False
    try:
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


# ----------------------------------------------------------------------------------- certificates
def _builder(subject, issuer, public_key, days, now):
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def ca_common_name(host):
    return 'Heketi CA (%s)' % host


def new_ca_cert(ca_key, host, days, now=None):
    """The CA certificate, self-signed with ``ca_key``: CA:TRUE pathlen:0 and keyCertSign+cRLSign, both critical."""
    name = _name(ca_common_name(host))
    builder = (_builder(name, name, ca_key.public_key(), days, now or utcnow())
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
    return builder.sign(ca_key, hashes.SHA256(), default_backend())


def new_server_cert(server_key, ca_key, ca_cert, host, sans, days, now=None):
    """Heketi's certificate: CN ``host``, the SANs, serverAuth, digitalSignature+keyAgreement, signed by the CA."""
    builder = (_builder(_name(host), ca_cert.subject, server_key.public_key(), days, now or utcnow())
               .add_extension(x509.SubjectAlternativeName(_general_names(sans)), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    return builder.sign(ca_key, hashes.SHA256(), default_backend())


def certificate_plan(cert, server_key, ca_cert, host, sans, renew_days, now=None):
    """(action, reason) for the existing server certificate ``cert`` (None: missing or unparseable bytes
    are told apart by the caller): kept, resigned (names, key or CA differ) or renewed (expiring)."""
    if not same_public_key(cert, server_key):
        return 'resigned', 'the certificate does not match the server key'
    if not signed_by(cert, ca_cert):
        return 'resigned', 'the certificate was not signed by the current CA'
    if common_name(cert) != to_text(host):
        return 'resigned', 'the common name is %r, not %r' % (common_name(cert), to_text(host))
    if cert_sans(cert) != sorted(sans):
        return 'resigned', 'the subject alternative names changed'
    left = not_after(cert) - (now or utcnow())
    if left < datetime.timedelta(days=renew_days):
        return 'renewed', 'it expires on %sZ, fewer than %d days from now' % (not_after(cert).isoformat(), renew_days)
    return 'kept', 'valid until %sZ' % not_after(cert).isoformat()
