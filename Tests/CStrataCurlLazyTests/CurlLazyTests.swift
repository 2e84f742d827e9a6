import CStrataCurlLazy
import Testing

/// The lazy libcurl stubs the shipped binary binds FoundationNetworking to (Sources/CStrataCurlLazy).
@Suite("libcurl loaded on first use")
struct CurlLazyTests {
    /// The stubs load libcurl.so.4 and forward pointers, longs and curl_off_t values through the variadic option
    /// functions, as FoundationNetworking calls them; each check is numbered in curl_lazy.c.
    @Test func stubsLoadLibcurlAndForwardEveryKindOfArgument() {
        #expect(strata_curl_lazy_round_trip() == 0)
    }
}
