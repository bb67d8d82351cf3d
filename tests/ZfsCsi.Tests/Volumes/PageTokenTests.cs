using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Tests.Volumes;

public sealed class PageTokenTests
{
    [Theory]
    [InlineData("data/k8s/pvc-1")]
    [InlineData("data/k8s/h-0123456789abcdef0123456789abcdef")]
    [InlineData("with\ttab and \u00e9")]
    public void A_token_reads_back_as_the_name_it_was_issued_for(string name)
    {
        Assert.Equal(name, PageToken.Read(PageToken.Issue(name)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void No_token_is_the_first_page(string? token)
    {
        Assert.Null(PageToken.Read(token));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("10")]
    [InlineData(".")]
    [InlineData("data/k8s/pvc-1")]
    [InlineData("ZGF0YS9rOHMvcHZjLTE")]
    [InlineData("ZGF0YS9rOHMvcHZjLTE.000000000000")]
    [InlineData("!!!.abcdefabcdef")]
    [InlineData("\n\t")]
    public void Garbage_is_an_invalid_page_token(string token)
    {
        var e = Assert.Throws<InvalidPageTokenException>(() => PageToken.Read(token));
        Assert.Equal(ErrorKind.Aborted, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_token_with_another_name_but_the_old_checksum_is_refused()
    {
        var real = PageToken.Issue("data/k8s/pvc-1");
        var other = PageToken.Issue("data/k8s/pvc-9");
        var forged = other[..other.LastIndexOf('.')] + real[real.LastIndexOf('.')..];

        Assert.Throws<InvalidPageTokenException>(() => PageToken.Read(forged));
    }

    [Fact]
    public void A_truncated_or_extended_token_is_refused()
    {
        var token = PageToken.Issue("data/k8s/pvc-1");

        Assert.Throws<InvalidPageTokenException>(() => PageToken.Read(token[..^1]));
        Assert.Throws<InvalidPageTokenException>(() => PageToken.Read(token[1..]));
        Assert.Throws<InvalidPageTokenException>(() => PageToken.Read(token + "0"));
    }

    [Fact]
    public void Pages_return_every_item_once_in_ordinal_order_and_the_last_has_no_token()
    {
        string[] items = ["e", "b", "D", "a", "c"];
        var seen = new List<string>();
        string? token = null;
        do
        {
            var (page, next) = PageToken.Page(items, i => i, token, 2);
            Assert.True(page.Count <= 2);
            seen.AddRange(page);
            token = next;
        } while (token is not null);

        Assert.Equal(["D", "a", "b", "c", "e"], seen);
        Assert.Equal(5, PageToken.Page(items, i => i, null, 0).Items.Count);
    }

    [Fact]
    public void A_negative_max_entries_is_invalid()
    {
        Assert.Throws<ZfsCsi.Core.Errors.InvalidInputException>(() => PageToken.CheckMaxEntries(-1));
        PageToken.CheckMaxEntries(0);
    }
}
