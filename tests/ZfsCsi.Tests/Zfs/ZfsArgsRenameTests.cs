using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsArgsRenameTests
{
    [Fact]
    public void A_dataset_rename_is_plain_argv_old_name_then_new()
    {
        Assert.Equal(
            ["rename", "data/k8s/pvc-1", "data/k8s/Deleted-1-pvc-1"],
            ZfsArgs.Rename(DatasetName.Parse("data/k8s/pvc-1"), DatasetName.Parse("data/k8s/Deleted-1-pvc-1"))
        );
    }
}
