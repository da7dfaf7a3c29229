"""What the orders tests share."""

from inventory.models import StockItem


def stock(product):
    item = StockItem.objects.get(product=product)
    return item.on_hand, item.reserved
