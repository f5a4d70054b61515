import Foundation

/// A test CA, a server certificate it signed for DNS:localhost only (valid until 2126), and an
/// unrelated CA. Throwaway test material, trusted by nothing but these tests; generated once with
/// openssl and inlined so tests need no resource bundle.
enum TLSFixtures {
    static let caCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBqzCCAVGgAwIBAgIURhb3HYi2C3NnQvPXCYv8CabYbI0wCgYIKoZIzj0EAwIw
        IjEgMB4GA1UEAwwXYXVkaXQtZm9yd2FyZGVyIHRlc3QgQ0EwIBcNMjYxMTIyMDUw
        MDM4WhgPMjEyNjEwMjkwNTAwMzhaMCIxIDAeBgNVBAMMF2F1ZGl0LWZvcndhcmRl
        ciB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuIjbo/47wC10x42I
        /tmsRdBfR8Vrb+eRf3+3paGA4DoMtWgRD9QyJQGwPVmQuCR8qjXdQpNvUYkB1PpU
        PTIs36NjMGEwHQYDVR0OBBYEFOkvBli3e2AkT3sUlJVn3shDhycKMB8GA1UdIwQY
        MBaAFOkvBli3e2AkT3sUlJVn3shDhycKMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P
        AQH/BAQDAgEGMAoGCCqGSM49BAMCA0gAMEUCIEf8h+ROwWBpB/R2OoCfy6Tuvl85
        0gFbU79TLhuMk9hjAiEAy4lxw3wt68VQEnYaVXyu0L3G2LYirecpVX+VMIyZMmw=
        -----END CERTIFICATE-----
        """
    static let otherCACertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBhjCCAS2gAwIBAgIUCh9TdERbVrzWn3CZQiQK52PiVKYwCgYIKoZIzj0EAwIw
        GDEWMBQGA1UEAwwNc29tZSBvdGhlciBDQTAgFw0yNjExMjIwNTAwMzhaGA8yMTI2
        MTAyOTA1MDAzOFowGDEWMBQGA1UEAwwNc29tZSBvdGhlciBDQTBZMBMGByqGSM49
        AgEGCCqGSM49AwEHA0IABLkMbfLyNmztWoeaZx8unRKKu9AUie/IW6uUARtxA26x
        2CHqj1ShHUceEISf5cME4INBTfquwwJsj4HxxR1v+ZujUzBRMB0GA1UdDgQWBBTy
        fopu3+UtBEfYFtrojSFw0NZO3zAfBgNVHSMEGDAWgBTyfopu3+UtBEfYFtrojSFw
        0NZO3zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIEdNkzvYSb1y
        K8Bci3ReRaJzivGOcnHa3yrBhfFQQ55uAiAMrJD3pS0qyMZPT0vE89DDYgAyNXQY
        O8ePZHtGUPQMzw==
        -----END CERTIFICATE-----
        """
    static let serverCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBxDCCAWqgAwIBAgIURb1SRIL76oWDXxVtDrkPAyOayNAwCgYIKoZIzj0EAwIw
        IjEgMB4GA1UEAwwXYXVkaXQtZm9yd2FyZGVyIHRlc3QgQ0EwIBcNMjYxMTIyMDUw
        MDM4WhgPMjEyNjEwMjkwNTAwMzhaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMG
        ByqGSM49AgEGCCqGSM49AwEHA0IABMM4cKwyJHOcXVnY/pw0kS2ZcnfgB6bzuCYd
        cHrnRQU7qgs0SvU2/jGGJ7P273EsJBYW6y6GdR1wUKV6mS2sgLCjgYkwgYYwFAYD
        VR0RBA0wC4IJbG9jYWxob3N0MAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMG
        A1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBQdrb25xdBU97UWKafkumsTaiEl
        nTAfBgNVHSMEGDAWgBTpLwZYt3tgJE97FJSVZ97IQ4cnCjAKBggqhkjOPQQDAgNI
        ADBFAiA7lzTIYFZ0yynufrUR00U8Z/uLibU65Zc9vRtMCpg6NAIhAIQn/U/c2YcU
        KwDl6Z+qlGYcbxk6G1FP8q1RYm0DtC65
        -----END CERTIFICATE-----
        """
    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4F9JhRkU8WbY9QZl
        ZRfNa26GYSVCYvGm1wY//D2Mt6WhRANCAATDOHCsMiRznF1Z2P6cNJEtmXJ34Aem
        87gmHXB650UFO6oLNEr1Nv4xhiez9u9xLCQWFusuhnUdcFClepktrICw
        -----END PRIVATE KEY-----
        """

    /// Writes the PEM files into `directory`; returns their paths.
    static func write(to directory: String) throws -> (ca: String, otherCA: String, certificate: String, key: String) {
        let files = [("ca.pem", caCertificate), ("other-ca.pem", otherCACertificate), ("server.pem", serverCertificate), ("server.key", serverKey)]
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return (directory + "/ca.pem", directory + "/other-ca.pem", directory + "/server.pem", directory + "/server.key")
    }
}
